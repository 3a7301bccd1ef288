/**
 * Interleaved measurement of engines that are compared with each other: each
 * round runs one pass of every arm, in an order that rotates from round to
 * round, so the arms of a ratio meet the same machine load and the same fsync
 * latency. Measured one after the other instead (all of Stepwise's passes, then
 * all of the raw limit's), the ratio moved with whatever else the shared host
 * did in between: SQLite one at a time against the raw limit read 1.06×, 0.43×
 * and 0.41× in three runs of one build, the limit's own step 789, 424 and 292 µs.
 */
import { performance } from 'node:perf_hooks';

/**
 * One engine under measurement: a pass runs every scenario once and returns the steps it ran, measured by the
 * caller, or its own {@link PassFigure} (an arm in a process of its own, ./remote-arm.ts, measures itself).
 */
export interface MeasuredArm {
  /** `pass` is negative for warm-up passes, so run ids never repeat. */
  readonly pass: (pass: number) => Promise<number | PassFigure>;
  readonly close: () => void | Promise<void>;
}

/** What one pass of one arm took. */
export interface PassFigure {
  readonly steps: number;
  readonly ms: number;
  /** CPU (user + system) of this process during the pass. */
  readonly cpuMs: number;
}

/** Untimed rounds before the timed ones (at most as many as are timed). */
export const WARM_UP_ROUNDS = 3;

/** One pass of `arm`, its wall time and this process's CPU measured around it (or as the arm measured them itself). */
export async function measuredPass(arm: MeasuredArm, pass: number): Promise<PassFigure> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await arm.pass(pass);
  if (typeof result !== 'number') return result;
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { steps: result, ms, cpuMs: (used.user + used.system) / 1000 };
}

export interface RoundOptions {
  /** Untimed rounds first; default up to {@link WARM_UP_ROUNDS}, never more than are timed. */
  readonly warmUps?: number;
  /**
   * Run after every pass, warm-up or timed, outside its measure (a store dropping the runs the pass finished, so
   * each pass starts on the same small heap and no arm pays for collecting another's runs).
   */
  readonly settle?: () => Promise<void>;
}

/**
 * Runs the warm-up rounds (compile, JIT, prepared statements; the engine's code reaches its optimised tiers only
 * after a few thousand steps), then `passes` timed rounds. Round r runs the arms starting at the (r mod n)-th, so no
 * arm always runs first or right after the same other (with two arms: a b, b a, …). Returns every arm's timed passes,
 * index r being round r's. The arms are closed afterwards, whatever happened.
 */
export async function rounds<K extends string>(arms: Record<K, MeasuredArm>, passes: number, options: RoundOptions = {}): Promise<Record<K, PassFigure[]>> {
  const names = Object.keys(arms) as K[];
  const figures = Object.fromEntries(names.map((name) => [name, [] as PassFigure[]])) as Record<K, PassFigure[]>;
  const settle = options.settle ?? (async () => {});
  try {
    for (let w = 1; w <= (options.warmUps ?? Math.min(WARM_UP_ROUNDS, passes)); w++) {
      for (const name of names) {
        await arms[name].pass(-w);
        await settle();
      }
    }
    for (let round = 0; round < passes; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length]!;
        figures[name].push(await measuredPass(arms[name], round));
        await settle();
      }
    }
    return figures;
  } finally {
    for (const name of names) await arms[name].close();
  }
}

const stepsPerMs = (f: PassFigure) => f.steps / f.ms;
const cpuPerStep = (f: PassFigure) => f.cpuMs / f.steps;

/**
 * An arm's figure from its passes: the fastest pass's steps and wall time (on a shared machine fsync latency swings
 * with other load), the least CPU per step of any pass.
 */
export function bestPass(passes: readonly PassFigure[]): PassFigure {
  if (passes.length === 0) throw new Error('no timed passes');
  const fastest = passes.reduce((best, f) => (stepsPerMs(f) > stepsPerMs(best) ? f : best));
  const leastCpu = Math.min(...passes.map(cpuPerStep));
  return { steps: fastest.steps, ms: fastest.ms, cpuMs: leastCpu * fastest.steps };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The ratio of two arms measured in the same rounds: the median over the rounds of a's figure / b's. */
export interface PairedRatio {
  readonly median: number;
  /** Each round's ratio, in round order. */
  readonly rounds: readonly number[];
}

const paired = (a: readonly PassFigure[], b: readonly PassFigure[], of: (f: PassFigure) => number): PairedRatio => {
  if (a.length !== b.length) throw new Error(`paired ratio of ${a.length} and ${b.length} passes`);
  const each = a.map((f, i) => Math.round((of(f) / of(b[i]!)) * 1000) / 1000);
  return { median: Math.round(median(each) * 100) / 100, rounds: each };
};

/** Steps per second of a against b, round by round. */
export const pairedSpeed = (a: readonly PassFigure[], b: readonly PassFigure[]): PairedRatio => paired(a, b, stepsPerMs);

/** CPU per step of a against b, round by round. */
export const pairedCpu = (a: readonly PassFigure[], b: readonly PassFigure[]): PairedRatio => paired(a, b, cpuPerStep);
