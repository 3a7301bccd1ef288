/**
 * Engine overhead with model time zero: the scenarios' work steps run as
 * application tool calls whose results are computed up front, so what is
 * timed is the engine (state machine, persistence) alone. Three engines on the
 * same steps and the same state: Stepwise (the real engine path, memory and
 * SQLite stores), LangGraph.js with its SQLite checkpointer, and the raw limit
 * (an XState step, its snapshot as JSON and one SQLite transaction; in ./limit.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadDefinitionFromObject } from '../definition/load.js';
import { ManualClock } from '../engine/clock.js';
import { createEngine } from '../engine/engine.js';
import { createSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import { defineTool, type AnyTool } from '../tools/define.js';
import { toDefinition } from './definition.js';
import { inputSchema } from './tools.js';
import { toolResult, type Scenario, type ScenarioStep } from './scenarios.js';
import { pool } from './stats.js';
import { bestPass, rounds, type MeasuredArm, type PassFigure } from './rounds.js';

/** One overhead measurement: work steps per second over the best of the timed passes. */
export interface Throughput {
  readonly steps: number;
  readonly runs: number;
  readonly seconds: number;
  readonly stepsPerSecond: number;
  /** Microseconds per step. */
  readonly usPerStep: number;
  /**
   * CPU microseconds per step (user + system of this process, the least over
   * the passes): what the engine itself costs, less moved by other load on a
   * shared machine than the wall time.
   */
  readonly cpuUsPerStep: number;
}

export type Synchronous = 'FULL' | 'NORMAL';

export function throughput(steps: number, runs: number, ms: number, cpuMs: number = ms): Throughput {
  const seconds = ms / 1000;
  return { steps, runs, seconds, stepsPerSecond: Math.round(steps / seconds), usPerStep: Math.round((ms * 1000) / steps), cpuUsPerStep: Math.round((cpuMs * 1000) / steps) };
}

/** The results each step returns, computed once outside the timed part. */
export function cachedResults(scenario: Scenario): Map<string, Record<string, unknown>> {
  return new Map(scenario.steps.map((step) => [step.tool, toolResult(step, { ...step.expectedInput, ...freeText(step) })]));
}

function freeText(step: ScenarioStep): Record<string, string> {
  return Object.fromEntries(step.inputs.filter((f) => f.from === 'free').map((f) => [f.name, `${f.name} text`]));
}

export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An arm's throughput from its timed passes: the fastest pass, the least CPU per step ({@link bestPass}). */
export function throughputOf(passes: readonly PassFigure[], runs: number): Throughput {
  const best = bestPass(passes);
  return throughput(best.steps, runs, best.ms, best.cpuMs);
}

/** One arm measured on its own: its warm-up passes, then `passes` timed ones. */
export async function measuredAlone(arm: MeasuredArm, passes: number, runs: number): Promise<Throughput> {
  const { alone } = await rounds({ alone: arm }, passes);
  return throughputOf(alone, runs);
}

/** Runs `work` over the items, `inFlight` at once, and returns the sum of the steps each ran. */
async function stepsOf<T>(items: readonly T[], inFlight: number, work: (item: T, index: number) => Promise<number>): Promise<number> {
  const counts = await pool(items, inFlight, work);
  return counts.reduce((a, b) => a + b, 0);
}

// ── Stepwise ───────────────────────────────────────────────────────────────

export function cachedTools(scenario: Scenario): AnyTool[] {
  const results = cachedResults(scenario);
  return scenario.steps.map(
    (step) => defineTool({ name: step.tool, description: step.does, input: inputSchema(step), run: () => results.get(step.tool) }) as unknown as AnyTool,
  );
}

/**
 * Stepwise on `store` (which the arm closes): every scenario as a tool-only definition run by
 * `createEngine().start()` to the end, `inFlight` runs at once.
 */
export function stepwiseArm(scenarios: readonly Scenario[], store: Store, inFlight = 1, onClose?: () => void): MeasuredArm {
  const engine = createEngine({ store, clock: new ManualClock({ autoAdvance: true }), model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } });
  const loaded = scenarios.map((s) => loadDefinitionFromObject(toDefinition(s, { toolOnly: true }), cachedTools(s), s.id));
  return {
    pass: (pass) =>
      stepsOf(loaded, inFlight, async (definition, i) => {
        const view = await engine.start(definition, { runId: `${pass}-${i}`, input: { document: '' } });
        if (view.status !== 'done') throw new Error(`overhead run ${view.runId} ended ${view.status}: ${view.failure?.message ?? ''}`);
        return (scenarios[i] as Scenario).steps.length;
      }),
    close: async () => {
      await store.close();
      onClose?.();
    },
  };
}

/** Stepwise on a SQLite file of its own in a temporary directory, removed when the arm closes. */
export function stepwiseSqliteArm(scenarios: readonly Scenario[], synchronous: Synchronous, inFlight = 1): MeasuredArm {
  const tmp = tempDir();
  return stepwiseArm(scenarios, createSqliteStore({ path: join(tmp.dir, 'stepwise.db'), synchronous }), inFlight, tmp.remove);
}

/** Stepwise on `store` measured on its own, `passes` timed passes after the warm-up. */
export function stepwiseThroughput(scenarios: readonly Scenario[], store: Store, passes: number, inFlight = 1): Promise<Throughput> {
  return measuredAlone(stepwiseArm(scenarios, store, inFlight), passes, scenarios.length);
}

/**
 * Runs in flight for the concurrent measurements of both engines: how a
 * service drives many runs at once. Stepwise's SQLite store then commits the
 * writes of one event-loop turn together (group commit), still durable before
 * any is acknowledged; LangGraph's saver writes each checkpoint on its own.
 */
export const IN_FLIGHT = 16;

// ── LangGraph.js ───────────────────────────────────────────────────────────

/** The input a step's node passes, read from the graph state the way the Stepwise mapping reads `$steps`. */
function nodeInput(step: ScenarioStep, scenario: Scenario, outputs: Record<string, Record<string, unknown>>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const f of step.inputs) {
    if (f.from === 'free') input[f.name] = `${f.name} text`;
    else if ('step' in f.from) input[f.name] = outputs[(scenario.steps[f.from.step] as ScenarioStep).id]?.[f.name];
    else {
      const echo = step.echoedBy[f.name];
      const record = echo === undefined ? undefined : (outputs[(scenario.steps[echo] as ScenarioStep).id]?.['record'] as Record<string, unknown> | undefined);
      input[f.name] = record ? record[f.name] : scenario.docValues[f.name];
    }
  }
  return input;
}

/**
 * LangGraph.js: each scenario as a StateGraph (one node per step, the tool
 * call inside it) compiled with `SqliteSaver`, invoked with `durability`.
 * Loaded on demand: LangGraph is a dev dependency of the benchmark only.
 */
export async function langgraphArm(
  scenarios: readonly Scenario[],
  mode: { durability: 'sync' | 'async' | undefined; synchronous: Synchronous | undefined },
  inFlight = 1,
): Promise<MeasuredArm> {
  const { Annotation, END, START, StateGraph } = await import('@langchain/langgraph');
  const { SqliteSaver } = await import('@langchain/langgraph-checkpoint-sqlite');
  const tmp = tempDir();
  const db = new Database(join(tmp.dir, 'langgraph.db'));
  const saver = new SqliteSaver(db);
  (saver as unknown as { setup(): void }).setup();
  if (mode.synchronous) db.pragma(`synchronous = ${mode.synchronous}`);
  const State = Annotation.Root({
    document: Annotation<string>(),
    outputs: Annotation<Record<string, Record<string, unknown>>>({ reducer: (a, b) => ({ ...a, ...b }), default: () => ({}) }),
  });
  const apps = scenarios.map((scenario) => {
    const results = cachedResults(scenario);
    // The builder's types track node names literally; generated graphs go through a loose view of it.
    const graph = new StateGraph(State) as unknown as {
      addNode(name: string, fn: (state: typeof State.State) => Partial<typeof State.State>): unknown;
      addEdge(from: string, to: string): unknown;
      compile(options: { checkpointer: unknown }): { invoke(input: unknown, config: unknown): Promise<typeof State.State> };
    };
    for (const step of scenario.steps) {
      graph.addNode(step.id, (state) => {
        nodeInput(step, scenario, state.outputs);
        return { outputs: { [step.id]: results.get(step.tool) as Record<string, unknown> } };
      });
    }
    let previous: string = START;
    for (const step of scenario.steps) {
      graph.addEdge(previous, step.id);
      previous = step.id;
    }
    graph.addEdge(previous, END);
    return graph.compile({ checkpointer: saver });
  });
  return {
    pass: (pass) =>
      stepsOf(apps, inFlight, async (app, i) => {
        const config = { configurable: { thread_id: `${pass}-${i}` }, ...(mode.durability ? { durability: mode.durability } : {}) };
        const state = await app.invoke({ document: '' }, config);
        if (Object.keys(state.outputs).length !== (scenarios[i] as Scenario).steps.length) throw new Error('langgraph run incomplete');
        return (scenarios[i] as Scenario).steps.length;
      }),
    close: () => {
      db.close();
      tmp.remove();
    },
  };
}
