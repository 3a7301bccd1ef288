/**
 * When a run is runnable: what `Store.claim` hands out. The condition is
 * described once, below, and turned into the JS predicate the memory store
 * uses and the SQL fragment SQLite and PostgreSQL use, so the three backends
 * cannot drift apart (test/store/runnable.test.ts checks them against each
 * other on every status, timer and lease around `now`).
 *
 * A run is runnable at `now` when its status allows it with its timer
 * (`wakeAt`) as below, and nobody holds its lease or the lease expired
 * (`until < now`).
 */
import type { RunRecord, RunStatus } from '../run/types.js';

/** `due`: the timer is set and `wakeAt <= now`; `none-or-due`: no timer, or a due one. */
type TimerRule = 'due' | 'none-or-due';

/** The statuses a claim may take, each with the timer it needs; every other status is never runnable. */
const RUNNABLE: ReadonlyArray<readonly [RunStatus, TimerRule]> = [
  ['running', 'none-or-due'], // driven now, or after a backoff
  ['waiting', 'due'], // a wait's timeout or the run's deadline came
];

/** Whether `run` may be claimed at `now`. */
export function isRunnable(run: Pick<RunRecord, 'status' | 'wakeAt' | 'lease'>, now: number): boolean {
  const rule = RUNNABLE.find(([status]) => status === run.status)?.[1];
  if (rule === undefined) return false;
  const timer = run.wakeAt === null ? rule === 'none-or-due' : run.wakeAt <= now;
  return timer && (run.lease === null || run.lease.until < now);
}

/**
 * The same condition as a SQL boolean over the `runs` columns (`status`,
 * `wake_at`, `lease_owner`, `lease_until`); `now` is the dialect's parameter
 * (`@now` for better-sqlite3, `$1` for pg).
 *
 * @example
 * db.prepare(`SELECT id FROM runs WHERE ${runnableSql('@now')}`).all({ now: Date.now() });
 */
export function runnableSql(now: string): string {
  const timer = (rule: TimerRule) => (rule === 'due' ? `wake_at IS NOT NULL AND wake_at <= ${now}` : `(wake_at IS NULL OR wake_at <= ${now})`);
  const statuses = RUNNABLE.map(([status, rule]) => `(status = '${status}' AND ${timer(rule)})`).join('\n  OR ');
  return `(${statuses})\n  AND (lease_owner IS NULL OR lease_until < ${now})`;
}
