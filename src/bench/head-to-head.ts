/**
 * Engine overhead with model time zero, the engines that are compared with each
 * other measured in the same rounds ({@link rounds}): Stepwise (the real engine
 * path), LangGraph.js with its SQLite checkpointer, and the raw limit, in three
 * groups that each compare like with like: synchronous FULL one run at a time,
 * synchronous FULL with {@link IN_FLIGHT} runs in flight (group commit), and no
 * fsync (Stepwise's memory store and SQLite NORMAL against the limit at NORMAL,
 * LangGraph at its defaults). The targets read the paired ratios: the median
 * over the rounds of each round's ratio.
 */
import { createMemoryStore } from '../store/memory.js';
import { limitArm } from './limit.js';
import { IN_FLIGHT, langgraphArm, stepwiseArm, stepwiseSqliteArm, throughputOf, type Throughput } from './overhead.js';
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

/** One group's arms in rounds; the LangGraph arm (made asynchronously: it is imported on demand) only when asked. */
async function group(arms: Record<string, MeasuredArm>, langgraph: (() => Promise<MeasuredArm>) | null, passes: number) {
  let all = arms;
  if (langgraph) {
    try {
      all = { ...arms, langgraph: await langgraph() };
    } catch (error) {
      for (const arm of Object.values(arms)) await arm.close();
      throw error;
    }
  }
  return rounds(all, passes);
}

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
  const lg = (mode: Parameters<typeof langgraphArm>[1], inFlight = 1) => (withLanggraph ? () => langgraphArm(scenarios, mode, inFlight) : null);
  const sync = { durability: 'sync', synchronous: 'FULL' } as const;

  progress(`overhead, one run at a time, synchronous FULL: Stepwise SQLite, raw limit${withLanggraph ? ', LangGraph.js' : ''} in alternating rounds`);
  const one = await group({ stepwise: stepwiseSqliteArm(scenarios, 'FULL'), limit: limitArm(scenarios, 'FULL') }, lg(sync), passes);
  progress(`overhead, ${IN_FLIGHT} runs in flight, synchronous FULL (group commit): the same arms`);
  const many = await group({ stepwise: stepwiseSqliteArm(scenarios, 'FULL', IN_FLIGHT), limit: limitArm(scenarios, 'FULL', IN_FLIGHT) }, lg(sync, IN_FLIGHT), passes);
  progress(`overhead, no fsync: Stepwise memory store and SQLite NORMAL, raw limit NORMAL${withLanggraph ? ', LangGraph.js defaults' : ''}`);
  const loose = await group(
    { memory: stepwiseArm(scenarios, createMemoryStore()), normal: stepwiseSqliteArm(scenarios, 'NORMAL'), limit: limitArm(scenarios, 'NORMAL') },
    lg({ durability: undefined, synchronous: undefined }),
    passes,
  );

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
