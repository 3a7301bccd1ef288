/**
 * Builders for run records and journal entries used by the store conformance
 * suite (and the store tests beside it).
 */
import type { NewJournalEntry, RunPatch, RunRecord, StoredDefinition } from '../run/types.js';
import { zeroUsage } from '../run/types.js';

let counter = 0;

export const definition = {
  workflow: { id: 'wf', steps: { a: { final: true } } },
  source: '/defs/wf.yaml',
  toolModules: [],
} as unknown as StoredDefinition;

export function makeRun(overrides: Partial<RunRecord> = {}): RunRecord {
  counter++;
  return {
    id: `run-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`,
    workflow: 'wf',
    version: 'v1',
    definition,
    status: 'running',
    input: { document: 'hello' },
    output: null,
    failure: null,
    usage: zeroUsage,
    snapshot: { value: 'a', context: {} },
    options: { seed: 1 },
    wakeAt: null,
    lease: null,
    createdAt: 1_000,
    updatedAt: 1_000,
    revision: 0,
    ...overrides,
  };
}

export function entry(overrides: Partial<NewJournalEntry> = {}): NewJournalEntry {
  return { step: 'a', visit: 1, attempt: 1, event: 'started', at: 1_000, ...overrides };
}

export function patch(overrides: Partial<RunPatch> = {}): RunPatch {
  return { status: 'running', snapshot: { value: 'b' }, failure: null, usage: zeroUsage, wakeAt: null, ...overrides };
}
