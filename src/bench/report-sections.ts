/**
 * The report's sections for the like-with-like comparisons: the all-claude
 * arm beside the stateless and mixed arms (faults drawn, requests, the
 * cheapest and dearest 5-step workflows, the token gap split into engine and
 * design), the PostgreSQL workers against raw transactions, and parked runs
 * in SQLite.
 */
import type { PostgresWorkers } from './postgres.js';
import type { BenchResult } from './run.js';
import type { Summary } from './stats.js';
import type { TokenExtremes, WorkflowTokens } from './extremes.js';
import type { FaultsDrawn } from './faults-drawn.js';
import type { ModelArmResult } from './model-arms.js';

/** What the like-with-like table reads of an arm. */
type LikeArm = ModelArmResult & FaultsDrawn;

const n = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : v.toLocaleString('en-US'));
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)} %`);
const range = (s: Summary | null): string => (s ? `${n(s.mean)} (p50 ${n(s.p50)}, p95 ${n(s.p95)}, ${n(s.min)}–${n(s.max)})` : '—');
const kinds = (f: Record<string, number> | null | undefined): string =>
  !f ? '—' : Object.keys(f).length === 0 ? 'none' : Object.entries(f).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');

const workflow = (w: WorkflowTokens): string => `${n(w.tokens)} (${w.scenario}, ${w.modelCalls})`;
const extremes = (e: TokenExtremes | null | undefined): string => (e ? `${workflow(e.min)} / ${workflow(e.max)}, ${e.spread}×` : '—');

/** Stateless, all-claude Stepwise and mixed Stepwise side by side, and the token gap split. */
export function likeWithLike(r: Pick<BenchResult, 'tokenGap'> & { readonly arms: { readonly stateless: LikeArm; readonly stepwise: LikeArm; readonly stepwiseClaude?: LikeArm | undefined } }): string[] {
  const { stateless, stepwise, stepwiseClaude } = r.arms;
  if (!stepwiseClaude) return [];
  const arms = [stateless, stepwiseClaude, stepwise];
  const row = (label: string, cell: (a: (typeof arms)[number]) => string) => `| ${label} | ${arms.map(cell).join(' | ')} |`;
  const lines = [
    '| like with like | stateless (SDK tool runner) | Stepwise, every step a `claude` step | Stepwise (tool steps where no model is needed) |',
    '| --- | --- | --- | --- |',
    row('completion', (a) => pct(a.completionRate)),
    row('tokens per 5-step workflow, mean (p50, p95, min–max)', (a) => range(a.tokensPer5StepWorkflow)),
    row('HTTP requests per workflow, mean (p95)', (a) => `${n(a.httpRequestsPerWorkflow?.mean)} (${n(a.httpRequestsPerWorkflow?.p95)})`),
    row('faults drawn per workflow', (a) => n(a.faultsPerWorkflow)),
    row('faults drawn, by kind', (a) => kinds(a.faultsDrawn)),
    row('failures', (a) => (a.failures === null ? '—' : Object.keys(a.failures).length === 0 ? 'none' : kinds(a.failures))),
    // A result file written before the extremes were kept has none.
    ...(arms.some((a) => a.tokensPer5StepExtremes) ? [row('cheapest / dearest 5-step workflow: tokens (scenario, model calls), max/min', (a) => extremes(a.tokensPer5StepExtremes))] : []),
  ];
  const gap = r.tokenGap;
  if (gap) {
    lines.push(
      '',
      `Token gap per 5-step workflow, stateless ${n(gap.stateless)} → Stepwise ${n(gap.stepwise)}: ` +
        `the engine (one step's declared context and a compact summary, no transcript) saves ${n(gap.engine)} (${pct(gap.engineShare)}), ` +
        `measured with every step a model step (${n(gap.stepwiseAllClaude)}); the design (tool steps that need no model) saves ${n(gap.design)} (${pct(gap.designShare)}).`,
    );
  }
  return lines;
}

/** The stricter raw baseline (the `UPDATE` alone, one round trip per transaction), when the results have it. */
function autocommitNote(byWorkers: readonly Partial<PostgresWorkers>[]): string[] {
  const rows = byWorkers.filter((w) => w.autocommitRatio !== undefined);
  if (rows.length === 0) return [];
  const each = rows.map((w) => `${w.workers}: ${n(w.rawAutocommitTransactionsPerSecond)}/s, ratio ${w.autocommitRatio}`).join('; ');
  return ['', `Raw transactions as the \`UPDATE\` alone in autocommit (one round trip each, as a store commit is; above: \`BEGIN; UPDATE; COMMIT\`), by workers: ${each}.`];
}

/** PostgreSQL workers against raw one-statement transactions on the same server and connections. */
export function postgresSection(r: Pick<BenchResult, 'postgres'>): string[] {
  const pg = r.postgres;
  if (!pg) return ['PostgreSQL: not run.'];
  if (pg.skipped !== null) return [`PostgreSQL: skipped: ${pg.skipped}`];
  const calls = (c: Record<string, number>) => Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ');
  // Results written before the arm ran each worker as its own process lack the CPU figures.
  const cpu = (w: Partial<PostgresWorkers>) =>
    w.serverCpuMsPerStep === undefined ? '—' : `${w.cpuMsPerStep} + ${w.serverCpuMsPerStep ?? '—'} / ${w.rawCpuMsPerTransaction} + ${w.rawServerCpuMsPerTransaction ?? '—'} (${w.cpuBoundRatio ?? '—'})`;
  return [
    `| PostgreSQL, model time zero (each worker: own ${(pg.byWorkers[0] as Partial<PostgresWorkers> | undefined)?.processes === undefined ? 'engine' : 'process'}, pool of 1 connection, ${pg.workerConcurrency} runs at once) | steps/s | raw transactions/s | ratio | CPU ms per step, worker + server / per raw transaction (ratio bound by CPU) | claim latency ms, p50 / p99 (poll ${pg.pollMs} ms) | statements per step | round trips, bytes sent / received per step |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...pg.byWorkers.map(
      (w) => `| ${w.workers} worker${w.workers === 1 ? '' : 's'}, ${w.runs} runs, ${n(w.steps)} steps | ${n(w.stepsPerSecond)} | ${n(w.rawTransactionsPerSecond)} | ${w.ratio} | ${cpu(w)} | ${n(w.claimLatencyMs?.p50)} / ${n(w.claimLatencyP99Ms)} | ${calls(w.storeCallsPerStep)} | ${w.roundTripsPerStep === undefined ? '—' : `${w.roundTripsPerStep}, ${n(w.bytesSentPerStep)} / ${n(w.bytesReceivedPerStep)}`} |`,
    ),
    ...('loadAverage1m' in pg && typeof pg.loadAverage1m === 'number'
      ? ['', `PostgreSQL arm: ${pg.cpus} CPUs shared by the worker processes, the raw processes and the server; load average ${pg.loadAverage1m} when it began (compare its ratios, not its absolute figures).`]
      : []),
    ...autocommitNote(pg.byWorkers),
  ];
}

/** Parked runs in the SQLite store. */
export function parkedSqliteLine(r: BenchResult): string[] {
  const p = r.arms.stepwise.parkedRunsSqlite;
  if (!p) return [];
  return [`Memory, SQLite store: ${n(p.runs)} runs parked at the same wait step add ${p.heapDeltaMB} MB of heap (${n(p.bytesPerRun)} bytes per run; resident set ${p.rssDeltaMB ?? '—'} MB, SQLite's page cache included).`];
}

/** The machine line: the figures are only comparable within one run when the machine is shared. */
export function machineLine(r: BenchResult): string[] {
  const m = r.machine;
  if (!m) return [];
  return [`Machine: ${m.cpus} CPUs, load average ${m.loadAverage1m} at the start (shared with other work: compare the ratios within this run, not absolute figures across runs), Node ${m.node}; ${r.durationSeconds} s.`];
}
