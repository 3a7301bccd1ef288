/**
 * Memory of parked runs: how much the heap grows when `count` runs of a
 * definition (one tool step, then a `wait` for APPROVE) sit at their wait step
 * in the process that holds them: with the in-memory store (the worst case:
 * the runs live on the heap) and with the SQLite store (they live in the file;
 * the process keeps only what the engine caches).
 * Measured as the heap used after a full GC, before and after starting them.
 * The GC comes from `global.gc` when Node runs with --expose-gc, otherwise
 * from `v8.setFlagsFromString('--expose-gc')` at run time.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadDefinitionFromObject } from '../definition/load.js';
import { ManualClock } from '../engine/clock.js';
import { createEngine } from '../engine/engine.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore } from '../store/memory.js';
import { createSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import { defineTool, type AnyTool } from '../tools/define.js';
import { cachedResults } from './overhead.js';
import { inputSchema } from './tools.js';
import type { Scenario, ScenarioStep } from './scenarios.js';

export interface ParkedMemory {
  readonly runs: number;
  /** Where the parked runs live. */
  readonly store?: 'memory' | 'sqlite';
  readonly heapDeltaMB: number;
  readonly bytesPerRun: number;
  /** Tokens of the step result each parked run holds. */
  readonly payloadTokens: number;
  readonly method: string;
  /** Resident set growth (heap plus native memory such as SQLite's page cache), for reference. */
  readonly rssDeltaMB?: number;
}

function collector(): { gc: () => void; method: string } {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return { gc: exposed, method: 'global.gc (--expose-gc), heapUsed after full GC' };
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return { gc, method: "v8.setFlagsFromString('--expose-gc') + vm gc, heapUsed after full GC" };
}

function heapAfterGc(gc: () => void): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** Runs started at once while parking: with SQLite their writes share transactions (group commit). */
const PARK_IN_FLIGHT = 16;

function openStore(kind: 'memory' | 'sqlite'): { store: Store; remove: () => void } {
  if (kind === 'memory') return { store: createMemoryStore(), remove: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-parked-'));
  // synchronous=NORMAL: the heap is what is measured, and 10,000 parkings need no fsync each.
  return { store: createSqliteStore({ path: join(dir, 'parked.db'), synchronous: 'NORMAL' }), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Parks `count` runs at a wait step in a `kind` store and reports the heap growth. */
export async function parkedRunsMemory(scenario: Scenario, count: number, kind: 'memory' | 'sqlite' = 'memory'): Promise<ParkedMemory> {
  const step = scenario.steps[0] as ScenarioStep;
  const result = cachedResults(scenario).get(step.tool);
  const tool = defineTool({ name: step.tool, description: step.does, input: inputSchema(step), run: () => result }) as unknown as AnyTool;
  const workflow = {
    id: 'bench-parked',
    steps: {
      s1: { tool: step.tool, with: { ...step.expectedInput, ...Object.fromEntries(step.inputs.filter((f) => f.from === 'free').map((f) => [f.name, 'text'])) } },
      approval: { wait: { on: { APPROVE: 'done' }, timeout: '72h' } },
      done: { final: true, output: '{% $steps.s1.output.record %}' },
    },
  };
  const definition = loadDefinitionFromObject(workflow, [tool], 'parked');
  const { store, remove } = openStore(kind);
  await store.migrate();
  const engine = createEngine({ store, clock: new ManualClock({ autoAdvance: true }), model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } });
  await engine.start(definition, { runId: 'warm-up' });
  const { gc, method } = collector();
  const before = heapAfterGc(gc);
  const rssBefore = process.memoryUsage().rss;
  let next = 0;
  const park = async () => {
    while (next < count) {
      const view = await engine.start(definition, { runId: `parked-${next++}` });
      if (view.status !== 'waiting') throw new Error(`parked run ended ${view.status}`);
    }
  };
  await Promise.all(Array.from({ length: kind === 'memory' ? 1 : PARK_IN_FLIGHT }, park));
  const after = heapAfterGc(gc);
  const rssDelta = process.memoryUsage().rss - rssBefore;
  const { countJsonTokens } = await import('../model/tokens.js');
  const delta = after - before;
  if (kind === 'sqlite' && (await store.list({ status: ['waiting'], limit: count + 1 })).length < count) throw new Error('parked runs missing from the store');
  await store.close();
  remove();
  return { runs: count, store: kind, rssDeltaMB: Math.round((rssDelta / 1048576) * 10) / 10, heapDeltaMB: Math.round((delta / 1048576) * 10) / 10, bytesPerRun: Math.round(delta / count), payloadTokens: countJsonTokens(result), method };
}
