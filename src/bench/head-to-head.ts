/**
 * Engine overhead with model time zero, the engines that are compared with each
 * other measured in the same rounds ({@link rounds}), each arm in a process of
 * its own (./arm-process.ts): Stepwise (the real engine path), LangGraph.js with
 * its SQLite checkpointer, and the raw limit, in three
 * groups that each compare like with like: synchronous FULL one run at a time,
 * synchronous FULL with {@link IN_FLIGHT} runs in flight (group commit), and no
 * fsync (Stepwise's memory store and SQLite NORMAL against the limit at NORMAL,
 * LangGraph at its defaults). The targets read the paired ratios: the median
 * over the rounds of each round's ratio.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArmTask } from './arm-task.js';
import { IN_FLIGHT, throughputOf, type Synchronous, type Throughput } from './overhead.js';
import { spawnArm } from './remote-arm.js';
import { pairedCpu, pairedSpeed, rounds, type MeasuredArm, type PairedRatio, type PassFigure } from './rounds.js';
import type { Scenario } from './scenarios.js';

/** The ratios the targets read, each of two arms measured in the same rounds. */
export interface PairedRatios {
  /** CPU per step, Stepwise on the memory store against the raw limit at NORMAL. */
  readonly cpuMemoryVsLimitNormal: PairedRatio;
  /** Steps per second, Stepwise on SQLite FULL against the raw limit at FULL, one run at a time. */
  readonly sqliteVsLimitOne: PairedRatio;
  /** The same with {@link IN_FLIGHT} runs in flight. */
  readonly sqliteVsLimitMany: PairedRatio;
  /** Steps per second, Stepwise on SQLite FULL against LangGraph (durability sync, FULL), one run at a time. */
  readonly sqliteVsLanggraphOne: PairedRatio | null;
  readonly sqliteVsLanggraphMany: PairedRatio | null;
}

export interface HeadToHead {
  readonly stepwise: { readonly memory: Throughput; readonly sqliteFull: Throughput; readonly sqliteFullConcurrent: Throughput; readonly sqliteNormal: Throughput };
  readonly langgraph: { readonly syncFull: Throughput; readonly syncFullConcurrent: Throughput; readonly defaults: Throughput } | null;
  readonly limit: { readonly sqliteFull: Throughput; readonly sqliteFullConcurrent: Throughput; readonly sqliteNormal: Throughput };
  readonly paired: PairedRatios;
}

export interface HeadToHeadOptions {
  /** Measure LangGraph.js too (a dev dependency). Default true. */
  readonly langgraph?: boolean;
  readonly onProgress?: (message: string) => void;
}

let spawned = 0;

/** Starts a group's arms, each in a process of its own (./remote-arm.ts), and measures them in rounds. */
async function group(dir: string, scenariosFile: string, tasks: Record<string, DistributiveOmit<ArmTask, 'scenariosFile'>>, passes: number) {
  const arms: Record<string, MeasuredArm> = {};
  try {
    for (const [name, task] of Object.entries(tasks)) {
      const file = join(dir, `arm-${++spawned}-${name}.json`);
      writeFileSync(file, JSON.stringify({ ...task, scenariosFile }));
      arms[name] = await spawnArm(file);
    }
  } catch (error) {
    for (const arm of Object.values(arms)) await arm.close();
    throw error;
  }
  return rounds(arms, passes);
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const passesOf = (figures: Record<string, PassFigure[]>, name: string): PassFigure[] => {
  const passes = figures[name];
  if (!passes) throw new Error(`no arm "${name}" in the round`);
  return passes;
};

/** The three groups, `passes` rounds each after the warm-up rounds. */
export async function headToHead(scenarios: readonly Scenario[], passes: number, options: HeadToHeadOptions = {}): Promise<HeadToHead> {
  const progress = options.onProgress ?? (() => {});
  const withLanggraph = options.langgraph ?? true;
  const runs = scenarios.length;
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-arms-'));
  const scenariosFile = join(dir, 'scenarios.json');
  writeFileSync(scenariosFile, JSON.stringify(scenarios));
  const lg = (synchronous: Synchronous | null, inFlight = 1) =>
    withLanggraph ? { langgraph: { engine: 'langgraph', durability: synchronous ? 'sync' : null, synchronous, inFlight } as const } : {};
  let one, many, loose;
  try {
    progress(`overhead, one run at a time, synchronous FULL: Stepwise SQLite, raw limit${withLanggraph ? ', LangGraph.js' : ''}, each in a process of its own, in alternating rounds`);
    one = await group(dir, scenariosFile, { stepwise: { engine: 'stepwise', store: 'FULL', inFlight: 1 }, limit: { engine: 'limit', synchronous: 'FULL', inFlight: 1 }, ...lg('FULL') }, passes);
    progress(`overhead, ${IN_FLIGHT} runs in flight, synchronous FULL (group commit): the same arms`);
    many = await group(
      dir,
      scenariosFile,
      { stepwise: { engine: 'stepwise', store: 'FULL', inFlight: IN_FLIGHT }, limit: { engine: 'limit', synchronous: 'FULL', inFlight: IN_FLIGHT }, ...lg('FULL', IN_FLIGHT) },
      passes,
    );
    progress(`overhead, no fsync: Stepwise memory store and SQLite NORMAL, raw limit NORMAL${withLanggraph ? ', LangGraph.js defaults' : ''}`);
    loose = await group(
      dir,
      scenariosFile,
      { memory: { engine: 'stepwise', store: 'memory', inFlight: 1 }, normal: { engine: 'stepwise', store: 'NORMAL', inFlight: 1 }, limit: { engine: 'limit', synchronous: 'NORMAL', inFlight: 1 }, ...lg(null) },
      passes,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const of = (figures: Record<string, PassFigure[]>, name: string) => throughputOf(passesOf(figures, name), runs);
  return {
    stepwise: { memory: of(loose, 'memory'), sqliteFull: of(one, 'stepwise'), sqliteFullConcurrent: of(many, 'stepwise'), sqliteNormal: of(loose, 'normal') },
    langgraph: withLanggraph ? { syncFull: of(one, 'langgraph'), syncFullConcurrent: of(many, 'langgraph'), defaults: of(loose, 'langgraph') } : null,
    limit: { sqliteFull: of(one, 'limit'), sqliteFullConcurrent: of(many, 'limit'), sqliteNormal: of(loose, 'limit') },
    paired: {
      cpuMemoryVsLimitNormal: pairedCpu(passesOf(loose, 'memory'), passesOf(loose, 'limit')),
      sqliteVsLimitOne: pairedSpeed(passesOf(one, 'stepwise'), passesOf(one, 'limit')),
      sqliteVsLimitMany: pairedSpeed(passesOf(many, 'stepwise'), passesOf(many, 'limit')),
      sqliteVsLanggraphOne: withLanggraph ? pairedSpeed(passesOf(one, 'stepwise'), passesOf(one, 'langgraph')) : null,
      sqliteVsLanggraphMany: withLanggraph ? pairedSpeed(passesOf(many, 'stepwise'), passesOf(many, 'langgraph')) : null,
    },
  };
}
