/**
 * Memory of parked runs: how much the heap grows when `count` runs of a
 * definition (one tool step, then a `wait` for APPROVE) sit at their wait step
 * in the in-memory store, the worst case (with SQLite they live on disk).
 * Measured as the heap used after a full GC, before and after starting them.
 * The GC comes from `global.gc` when Node runs with --expose-gc, otherwise
 * from `v8.setFlagsFromString('--expose-gc')` at run time.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadDefinitionFromObject } from '../definition/load.js';
import { ManualClock } from '../engine/clock.js';
import { createEngine } from '../engine/engine.js';
import { createMemoryStore } from '../store/memory.js';
import { defineTool, type AnyTool } from '../tools/define.js';
import { cachedResults } from './overhead.js';
import { inputSchema } from './tools.js';
import type { Scenario, ScenarioStep } from './scenarios.js';

export interface ParkedMemory {
  readonly runs: number;
  readonly heapDeltaMB: number;
  readonly bytesPerRun: number;
  /** Tokens of the step result each parked run holds. */
  readonly payloadTokens: number;
  readonly method: string;
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

/** Parks `count` runs at a wait step and reports the heap growth. */
export async function parkedRunsMemory(scenario: Scenario, count: number): Promise<ParkedMemory> {
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
  const store = createMemoryStore();
  await store.migrate();
  const engine = createEngine({ store, clock: new ManualClock({ autoAdvance: true }), model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } });
  await engine.start(definition, { runId: 'warm-up' });
  const { gc, method } = collector();
  const before = heapAfterGc(gc);
  for (let i = 0; i < count; i++) {
    const view = await engine.start(definition, { runId: `parked-${i}` });
    if (view.status !== 'waiting') throw new Error(`parked run ended ${view.status}`);
  }
  const after = heapAfterGc(gc);
  const { countJsonTokens } = await import('../model/tokens.js');
  const delta = after - before;
  await store.close();
  return { runs: count, heapDeltaMB: Math.round((delta / 1048576) * 10) / 10, bytesPerRun: Math.round(delta / count), payloadTokens: countJsonTokens(result), method };
}
