/**
 * The benchmark's targets, each computed from the figures of one run: the
 * goal, the measured value and whether it is met (null where it was not
 * measured or, for completion, where the target is defined on another
 * profile). Ratios compare like with like: the same durability, and the same
 * way of driving runs (one at a time, or 16 in flight with group commit).
 */
import type { PairedRatios } from './head-to-head.js';
import type { Throughput } from './overhead.js';
import type { PostgresBench } from './postgres.js';
import type { ParkedMemory } from './memory.js';
import type { Summary } from './stats.js';
import type { PromptCacheFigure } from './prompt-cache.js';
import type { CompositionBench } from './composition.js';

export interface Target {
  readonly name: string;
  readonly target: string;
  readonly value: number | null;
  readonly met: boolean | null;
}

interface TokenArm {
  readonly completionRate: number;
  readonly tokensPer5StepWorkflow: Summary | null;
}

export interface TargetInputs {
  readonly profile: string;
  readonly inFlight: number;
  readonly stateless: TokenArm;
  readonly stepwise: TokenArm;
  readonly stepwiseClaude: TokenArm | null;
  readonly stepwiseOverhead: { readonly memory: Throughput; readonly sqliteFull: Throughput; readonly sqliteFullConcurrent: Throughput };
  readonly langgraph: { readonly syncFull: Throughput; readonly syncFullConcurrent: Throughput } | null;
  readonly limit: { readonly sqliteFull: Throughput; readonly sqliteFullConcurrent: Throughput; readonly sqliteNormal: Throughput };
  /** Ratios of arms measured in the same rounds: read instead of the ratios of the arms' best passes when given. */
  readonly paired?: PairedRatios;
  readonly postgres: PostgresBench | null;
  readonly parkedMemory: ParkedMemory | null;
  readonly parkedSqlite: ParkedMemory | null;
  readonly promptCache: PromptCacheFigure | null;
  /** The composition figures (`map`); null when not measured. */
  readonly composition?: CompositionBench | null;
}

/** a / b to two decimals; null when either is missing or b is zero. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || a === undefined || !b ? null : Math.round((a / b) * 100) / 100;
}

const atLeast = (value: number | null, goal: number) => (value === null ? null : value >= goal);
const atMost = (value: number | null, goal: number) => (value === null ? null : value <= goal);

function spread(s: Summary | null): number | null {
  return s && s.min > 0 ? Math.round((s.max / s.min) * 100) / 100 : null;
}

/** `prefix` names the arm: '' for the mixed arm (its target names predate the all-claude arm). */
function tokenTargets(prefix: string, arm: TokenArm, stateless: TokenArm, flaky: boolean): Target[] {
  const completion = Math.round(arm.completionRate * 1000) / 10;
  const tokens = ratio(arm.tokensPer5StepWorkflow?.mean, stateless.tokensPer5StepWorkflow?.mean);
  const maxMin = spread(arm.tokensPer5StepWorkflow);
  return [
    { name: `${prefix || 'Stepwise '}completion (%)`, target: flaky ? '>= 99.5 % on flaky' : '>= 99.5 % (target defined on flaky)', value: completion, met: flaky ? completion >= 99.5 : null },
    { name: `${prefix}tokens per 5-step workflow vs stateless`, target: '<= 0.25x', value: tokens, met: atMost(tokens, 0.25) },
    { name: `${prefix}max/min tokens over 5-step workflows`, target: '<= 2x', value: maxMin, met: atMost(maxMin, 2) },
  ];
}

function parkedTarget(name: string, parked: ParkedMemory | null): Target {
  return { name, target: '<= 100 MB', value: parked ? parked.heapDeltaMB : null, met: parked ? parked.heapDeltaMB <= 100 * (parked.runs / 10_000) : null };
}

/** The head-to-head's targets: completion, tokens against the stateless arm and the max/min spread, of the mixed arm, then of the all-claude arm. */
export function modelTargets(r: Pick<TargetInputs, 'profile' | 'stateless' | 'stepwise' | 'stepwiseClaude'>): Target[] {
  const flaky = r.profile === 'flaky';
  return [...tokenTargets('', r.stepwise, r.stateless, flaky), ...(r.stepwiseClaude ? tokenTargets('all-claude Stepwise: ', r.stepwiseClaude, r.stateless, flaky) : [])];
}

/** Every target of the run, in the order the report prints them. */
export function benchTargets(r: TargetInputs): Target[] {
  const sw = r.stepwiseOverhead;
  // CPU time, not wall time: the engine's own cost, which other load on a shared machine moves far less.
  // Measured in the same rounds, the median of the rounds' ratios; else the ratio of the arms' best passes.
  const p = r.paired;
  const cpu = p ? p.cpuMemoryVsLimitNormal.median : ratio(sw.memory.cpuUsPerStep ?? sw.memory.usPerStep, r.limit.sqliteNormal.cpuUsPerStep ?? r.limit.sqliteNormal.usPerStep);
  const limitOne = p ? p.sqliteVsLimitOne.median : ratio(sw.sqliteFull.stepsPerSecond, r.limit.sqliteFull.stepsPerSecond);
  const limitMany = p ? p.sqliteVsLimitMany.median : ratio(sw.sqliteFullConcurrent.stepsPerSecond, r.limit.sqliteFullConcurrent.stepsPerSecond);
  const lgOne = p ? (p.sqliteVsLanggraphOne?.median ?? null) : ratio(sw.sqliteFull.stepsPerSecond, r.langgraph?.syncFull.stepsPerSecond);
  const lgMany = p ? (p.sqliteVsLanggraphMany?.median ?? null) : ratio(sw.sqliteFullConcurrent.stepsPerSecond, r.langgraph?.syncFullConcurrent.stepsPerSecond);
  const targets: Target[] = [
    ...modelTargets(r),
    { name: 'CPU µs per step, Stepwise memory store vs raw limit NORMAL (no fsync)', target: '<= 2x', value: cpu, met: atMost(cpu, 2) },
    { name: 'steps/s SQLite FULL vs raw limit FULL, one run at a time', target: '>= 0.7x', value: limitOne, met: atLeast(limitOne, 0.7) },
    { name: `steps/s SQLite FULL vs raw limit FULL, ${r.inFlight} runs in flight (group commit both)`, target: '>= 0.7x', value: limitMany, met: atLeast(limitMany, 0.7) },
    { name: 'steps/s SQLite FULL vs LangGraph sync, one run at a time', target: '>= 3x', value: lgOne, met: atLeast(lgOne, 3) },
    { name: `steps/s SQLite FULL vs LangGraph sync (${r.inFlight} runs in flight each)`, target: '>= 3x', value: lgMany, met: atLeast(lgMany, 3) },
  ];
  targets.push(...postgresTargets(r.postgres));
  if (r.promptCache) {
    targets.push({ name: '20 items sharing a 2,000-token prefix: billed input vs no caching', target: '<= 0.3x', value: r.promptCache.ratio, met: atMost(r.promptCache.ratio, 0.3) });
  }
  if (r.composition) targets.push(...compositionTargets(r.composition));
  targets.push(parkedTarget('10,000 waiting runs (memory store)', r.parkedMemory), parkedTarget('10,000 waiting runs (SQLite store)', r.parkedSqlite));
  return targets;
}

/** Whether a target is one of {@link postgresTargets} (a `--postgres` run replaces them in latest.json). */
/** Targets as a Markdown table: each with its goal, the measured value (— when none) and whether it is met. */
export function targetsTable(targets: readonly Target[]): string[] {
  return [
    '| target | goal | measured | met |',
    '| --- | --- | --- | --- |',
    ...targets.map((t) => `| ${t.name} | ${t.target} | ${t.value ?? '—'} | ${t.met === null ? '—' : t.met ? 'yes' : 'no'} |`),
  ];
}

export const isPostgresTarget = (t: Target): boolean => t.name.startsWith('PostgreSQL steps/s vs raw');

/** Whether a target is one of {@link compositionTargets} (a `--composition` run replaces them in latest.json). */
export const isCompositionTarget = (t: Target): boolean => t.name.startsWith('map of ') || t.name.startsWith('CPU µs per map item');

/**
 * `targets` with those `isMember` picks replaced by `fresh`, where the first stood (at the end when there were none).
 * @example
 * replaceTargets(latest.targets, postgresTargets(bench), isPostgresTarget); // the other targets unchanged, in their order
 */
export function replaceTargets(targets: readonly Target[], fresh: readonly Target[], isMember: (t: Target) => boolean): Target[] {
  const at = targets.findIndex(isMember);
  const others = targets.filter((t) => !isMember(t));
  if (at < 0) return [...others, ...fresh];
  const before = targets.slice(0, at).filter((t) => !isMember(t)).length;
  return [...others.slice(0, before), ...fresh, ...others.slice(before)];
}

/** The PostgreSQL arm's targets: steps/s against raw one-statement transactions/s, per worker count. */
export function postgresTargets(postgres: PostgresBench | null): Target[] {
  if (!postgres || postgres.skipped !== null) {
    return [{ name: 'PostgreSQL steps/s vs raw one-statement transactions/s', target: `>= 0.5x (${postgres ? `skipped: ${postgres.skipped}` : 'not run'})`, value: null, met: null }];
  }
  // Two baselines: the raw transaction as `BEGIN; UPDATE; COMMIT` (three round trips), and the stricter one, the
  // `UPDATE` alone in autocommit (one round trip, as each store commit is). The target holds against both.
  return postgres.byWorkers.flatMap((w) => {
    const sides = `${w.workers} worker${w.workers === 1 ? '' : 's'} (${w.connections} connection${w.connections === 1 ? '' : 's'} each side)`;
    return [
      { name: `PostgreSQL steps/s vs raw one-statement transactions/s, ${sides}`, target: '>= 0.5x', value: w.ratio, met: atLeast(w.ratio, 0.5) },
      { name: `PostgreSQL steps/s vs raw one-statement transactions/s in autocommit, ${sides}`, target: '>= 0.5x', value: w.autocommitRatio, met: atLeast(w.autocommitRatio, 0.5) },
    ];
  });
}

/** The targets of the composition figures: map wall time, CPU per item, prompt caching across a map. */
export function compositionTargets(c: CompositionBench): Target[] {
  const { mapWall: wall, itemOverhead: cpu, mapCache: cache } = c;
  return [
    ...[wall, c.mapWallMemory].map((w) => ({ name: `map of ${w.items} items, maxConcurrency ${w.maxConcurrency}, emulator latency ${w.latencyMs} ms, ${w.store}: wall time vs ${w.sequentialItems} items one at a time`, target: '<= 1.3x', value: w.ratio, met: atMost(w.ratio, 1.3) })),
    { name: 'CPU µs per map item vs per plain step (model time zero, memory store)', target: '<= 1.2x', value: cpu.ratio, met: atMost(cpu.ratio, 1.2) },
    { name: `map of ${cache.items} items sharing a ${cache.prefixTokens.toLocaleString('en-US')}-token prefix: billed input vs no caching`, target: '<= 0.3x', value: cache.ratio, met: atMost(cache.ratio, 0.3) },
  ];
}
