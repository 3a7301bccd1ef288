/** Shared set-up for the guard tests: an emulator, an engine on it, small tools and workflows. */
import { z } from 'zod';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { ManualClock, type Clock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { DefinitionSource } from '../../src/engine/runtime.js';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { createMemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/types.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';
import type { JournalEntry } from '../../src/run/types.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

export interface Rig {
  emu: Emulator;
  engine: Engine;
  store: Store;
  clock: Clock;
  close(): Promise<void>;
}

/** An emulator with `faults` and an engine on it (memory store, auto-advancing clock unless given). */
export async function rig(
  options: {
    faults?: EmulatorOptions['faults'];
    tokenScale?: number;
    seed?: number;
    store?: Store;
    clock?: Clock;
    tools?: AnyTool[];
    timeoutMs?: number;
    maxRetries?: number;
    /** The emulator's prompt cache expires on the engine's clock (a long backoff outlives its entries); default wall time. */
    sharedClock?: boolean;
  } = {},
): Promise<Rig> {
  const store = options.store ?? createMemoryStore();
  const clock = options.clock ?? new ManualClock({ autoAdvance: true });
  const emu = await startEmulator({
    ...(options.faults !== undefined ? { faults: options.faults } : {}),
    ...(options.tokenScale !== undefined ? { tokenScale: options.tokenScale } : {}),
    ...(options.sharedClock ? { now: () => clock.now() } : {}),
    seed: options.seed ?? 1,
  });
  const engine = createEngine({
    store,
    clock,
    tools: options.tools ?? [],
    model: { baseURL: emu.url, apiKey: 'x', maxRetries: options.maxRetries ?? 0, timeoutMs: options.timeoutMs ?? MODEL_TIMEOUT_MS },
  });
  return {
    emu,
    engine,
    store,
    clock,
    async close() {
      await emu.close();
      if (!options.store) await store.close();
    },
  };
}

/** A tool that records a note and echoes it, the usual target of a `claude` step. */
export const recordNote = defineTool({
  name: 'record_note',
  description: 'Record a short note about the case.',
  input: z.object({ title: z.string(), note: z.string() }),
  run: async (input) => ({ saved: true, title: input.title }),
});

/** A tool the application calls (a `tool` step); always answers. */
export const vendorApi = defineTool({
  name: 'vendor_api',
  description: 'Look a vendor up in the ERP',
  input: z.object({ vendorId: z.string() }),
  run: async ({ vendorId }) => ({ vendorId, name: 'ACME', status: 'active' }),
});

/** A definition from a workflow object and its tools, checked like a file. */
export function definition(workflow: Record<string, unknown>, tools: AnyTool[]): DefinitionSource {
  return loadDefinitionFromObject(workflow, tools, `${String(workflow['id'])}.test`);
}

export const fastRetry = { maxAttempts: 3, backoff: { initial: '1s', factor: 2, max: '10s', jitter: 0 } };

export function events(journal: readonly JournalEntry[], event: JournalEntry['event']): JournalEntry[] {
  return journal.filter((e) => e.event === event);
}
