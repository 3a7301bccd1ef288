/**
 * An overhead arm as data, so a process of its own can make it
 * (./arm-process.ts): which engine, on which store or durability, with how
 * many runs in flight, over the scenarios in `scenariosFile`.
 */
import { createMemoryStore } from '../store/memory.js';
import { limitArm } from './limit.js';
import { langgraphArm, stepwiseArm, stepwiseSqliteArm, type Synchronous } from './overhead.js';
import type { MeasuredArm } from './rounds.js';
import type { Scenario } from './scenarios.js';

export type ArmTask = { readonly scenariosFile: string; readonly inFlight: number } & (
  | { readonly engine: 'stepwise'; readonly store: 'memory' | Synchronous }
  | { readonly engine: 'limit'; readonly synchronous: Synchronous }
  | { readonly engine: 'langgraph'; readonly durability: 'sync' | 'async' | null; readonly synchronous: Synchronous | null }
);

/** The arm a task describes, over `scenarios`. */
export async function armOf(task: ArmTask, scenarios: readonly Scenario[]): Promise<MeasuredArm> {
  switch (task.engine) {
    case 'stepwise':
      return task.store === 'memory' ? stepwiseArm(scenarios, createMemoryStore(), task.inFlight) : stepwiseSqliteArm(scenarios, task.store, task.inFlight);
    case 'limit':
      return limitArm(scenarios, task.synchronous, task.inFlight);
    case 'langgraph':
      return langgraphArm(scenarios, { durability: task.durability ?? undefined, synchronous: task.synchronous ?? undefined }, task.inFlight);
    default:
      throw new Error(`no overhead arm for engine ${JSON.stringify((task as { engine: unknown }).engine)}`);
  }
}
