/**
 * Shared pieces of the durability tests: a small workflow with a model step,
 * a side-effecting tool step that fails its first attempt, a wait with a
 * timeout, and journal checks (contiguous seq, every completion preceded by
 * its start, no completed step run twice).
 */
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import type { JournalEntry } from '../../src/run/types.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';

export function counterTools(calls: string[], options: { failFirst?: boolean } = {}) {
  return [
    defineTool({
      name: 'record_note',
      description: 'Record a short note about the order.',
      input: z.object({ note: z.string().min(1).describe('A short note') }),
      run: (input, { idempotencyKey }) => {
        calls.push(idempotencyKey);
        return { noted: input.note };
      },
    }),
    defineTool({
      name: 'charge',
      description: 'Charge the order.',
      input: z.object({ order: z.string() }),
      run: ({ order }, { idempotencyKey, attempt }) => {
        calls.push(idempotencyKey);
        if (options.failFirst && attempt === 1) throw new Error('payment gateway timeout');
        return { charged: order };
      },
    }),
  ];
}

/** note (model) → charge (tool, retried with 1 s backoff) → approval (wait, 1 h timeout) → done | expired. */
export const durableWorkflow = {
  id: 'durable',
  retry: { maxAttempts: 3, backoff: { initial: '1s', factor: 2, max: '10s', jitter: 0 } },
  breaker: false,
  steps: {
    note: { claude: { tool: 'record_note', prompt: 'Write a note about the order.', context: { order: '{% $input.order %}' } }, next: 'charge' },
    charge: { tool: 'charge', with: { order: '{% $input.order %}' }, next: 'approval' },
    approval: { wait: { on: { APPROVE: 'done' }, timeout: '1h', onTimeout: 'expired' } },
    done: { final: true, output: { status: 'approved' } },
    expired: { final: true, output: { status: 'expired' } },
  },
};

export function durableDefinition(calls: string[], options: { failFirst?: boolean; withWait?: boolean; tools?: readonly AnyTool[] } = {}) {
  const workflow =
    options.withWait === false
      ? { ...durableWorkflow, steps: { ...durableWorkflow.steps, charge: { ...durableWorkflow.steps.charge, next: 'done' } } }
      : durableWorkflow;
  return loadDefinitionFromObject(workflow, options.tools ?? counterTools(calls, options), 'durable');
}

/** Problems in a journal: gaps in seq, a completion without its start, a step completed twice. */
export function journalProblems(journal: readonly JournalEntry[]): string[] {
  const problems: string[] = [];
  journal.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`seq ${e.seq} at position ${i + 1}`);
  });
  const started = new Set<string>();
  const completed = new Set<string>();
  for (const e of journal) {
    const key = `${e.step}:${e.visit}:${e.attempt}`;
    if (e.event === 'started') started.add(key);
    if (e.event === 'completed') {
      if (!started.has(key)) problems.push(`completed ${key} without started`);
      if (completed.has(`${e.step}:${e.visit}`)) problems.push(`step ${e.step} visit ${e.visit} completed twice`);
      completed.add(`${e.step}:${e.visit}`);
    }
  }
  return problems;
}
