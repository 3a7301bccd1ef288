/**
 * A summary of the runs in a store: how many complete, tokens and cost per
 * run, and why the others failed — overall and per workflow.
 */
import type { JournalEntry, RunRecord, RunStatus } from '../run/types.js';
import { count } from '../util/plural.js';
import { roundUsd } from '../util/usd.js';

export interface Spread {
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly p50: number;
}

export interface GroupStats {
  readonly runs: number;
  readonly byStatus: Partial<Record<RunStatus, number>>;
  /** `done` runs over runs that came to an end (in progress ones — running, waiting — excluded). */
  readonly completionRate: number | null;
  readonly tokensPerRun: Spread;
  readonly usdPerRun: Spread;
  readonly totalTokens: number;
  readonly totalUsd: number;
  /** Failure kinds of the runs that failed or stopped. */
  readonly failuresByKind: Record<string, number>;
  /** Failure kinds of every failed step attempt (retried ones included). */
  readonly attemptFailuresByKind: Record<string, number>;
  readonly retries: number;
}

export interface StoreStats extends GroupStats {
  readonly workflows: Record<string, GroupStats>;
}

function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { mean: 0, min: 0, max: 0, p50: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    mean: values.reduce((t, v) => t + v, 0) / values.length,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    p50: sorted[Math.floor((sorted.length - 1) / 2)]!,
  };
}

/** A spread of dollar amounts, its mean without float noise. */
function usdSpread(values: readonly number[]): Spread {
  const s = spread(values);
  return { ...s, mean: roundUsd(s.mean) };
}

const inProgress: readonly RunStatus[] = ['running', 'waiting'];

function group(runs: readonly RunRecord[], journals: ReadonlyMap<string, readonly JournalEntry[]>): GroupStats {
  const byStatus: Partial<Record<RunStatus, number>> = {};
  const failuresByKind: Record<string, number> = {};
  const attemptFailuresByKind: Record<string, number> = {};
  let retries = 0;
  for (const run of runs) {
    byStatus[run.status] = (byStatus[run.status] ?? 0) + 1;
    if (run.failure && (run.status === 'failed' || run.status === 'budget_exhausted')) {
      failuresByKind[run.failure.kind] = (failuresByKind[run.failure.kind] ?? 0) + 1;
    }
    for (const e of journals.get(run.id) ?? []) {
      if (e.event === 'failed' && e.error && e.attempt > 0) attemptFailuresByKind[e.error.kind] = (attemptFailuresByKind[e.error.kind] ?? 0) + 1;
      if (e.event === 'retry_scheduled') retries++;
    }
  }
  const ended = runs.filter((r) => !inProgress.includes(r.status)).length;
  return {
    runs: runs.length,
    byStatus,
    completionRate: ended > 0 ? (byStatus.done ?? 0) / ended : null,
    tokensPerRun: spread(runs.map((r) => r.usage.totalTokens)),
    usdPerRun: usdSpread(runs.map((r) => r.usage.usd)),
    totalTokens: runs.reduce((t, r) => t + r.usage.totalTokens, 0),
    totalUsd: roundUsd(runs.reduce((t, r) => t + r.usage.usd, 0)),
    failuresByKind,
    attemptFailuresByKind,
    retries,
  };
}

/** Summarises `runs`, with their journals for attempt-level counts. */
export function storeStats(runs: readonly RunRecord[], journals: ReadonlyMap<string, readonly JournalEntry[]>): StoreStats {
  const workflows: Record<string, GroupStats> = {};
  for (const id of [...new Set(runs.map((r) => r.workflow))].sort()) {
    workflows[id] = group(
      runs.filter((r) => r.workflow === id),
      journals,
    );
  }
  return { ...group(runs, journals), workflows };
}

const pct = (rate: number | null) => (rate === null ? '-' : `${(rate * 100).toFixed(1)} %`);
const kinds = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

function describe(name: string, s: GroupStats): string[] {
  return [
    `${name}: ${count(s.runs, 'run')} (${Object.entries(s.byStatus)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}), completion ${pct(s.completionRate)}`,
    `  tokens per run: mean ${Math.round(s.tokensPerRun.mean)}, p50 ${s.tokensPerRun.p50}, min ${s.tokensPerRun.min}, max ${s.tokensPerRun.max}; total ${s.totalTokens}`,
    `  cost per run: mean $${s.usdPerRun.mean.toFixed(4)}, max $${s.usdPerRun.max.toFixed(4)}; total $${s.totalUsd.toFixed(4)}`,
    `  run failures: ${kinds(s.failuresByKind)}`,
    `  failed attempts: ${kinds(s.attemptFailuresByKind)}; ${count(s.retries, 'retry', 'retries')}`,
  ];
}

/** The stats as terminal lines. */
export function renderStats(stats: StoreStats): string[] {
  const lines = describe('all workflows', stats);
  for (const [id, s] of Object.entries(stats.workflows)) lines.push(...describe(id, s));
  return lines;
}
