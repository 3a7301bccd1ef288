/**
 * Crash points for the durability tests: named places in the driver and the
 * stores where a test can make the process die with SIGKILL, so every moment a
 * crash must not lose anything is exercised with a real process death. The
 * stores do not import this module: `mid-commit` reaches them through their
 * `hooks` option ({@link crashStoreHooks}, passed in by the CLI).
 *
 * `STEPWISE_CRASH_AT=<point>[:<n>][@<delayMs>]` kills the process at the n-th
 * time (default 1st) `point` is reached, immediately or `delayMs` later (so the
 * kill lands in the middle of what follows: a model call, a tool call, a sleep).
 * The variable is read once; when it is unset `crashPoint` is an empty function.
 *
 * Points: `step-started` (an attempt's start is committed), `mid-model` (a
 * model step is about to execute), `mid-tool` (a tool step is about to
 * execute), `after-tool` (a step returned, nothing committed yet), `mid-commit`
 * (inside a store's commit transaction, between the run update and the journal
 * insert), `backoff` (a retry's due time is committed, the process sleeps),
 * `waiting` (a wait is committed), `child-created` (a `workflow` step's child
 * run was created, after the step's start was committed), `after-child` (a
 * child run's drive returned, ended or resting; the parent committed nothing
 * of it yet).
 */
import type { StoreHooks } from '../store/types.js';

export type CrashPointName = 'step-started' | 'mid-model' | 'mid-tool' | 'after-tool' | 'mid-commit' | 'backoff' | 'waiting' | 'child-created' | 'after-child';

interface CrashPlan {
  readonly point: string;
  readonly nth: number;
  readonly delayMs: number;
}

/** Parses `<point>[:<n>][@<delayMs>]`; null when unset or malformed. */
export function parseCrashPlan(spec: string | undefined): CrashPlan | null {
  const match = /^([a-z-]+)(?::(\d+))?(?:@(\d+))?$/.exec((spec ?? '').trim());
  if (!match) return null;
  return { point: match[1] as string, nth: Number(match[2] ?? 1), delayMs: Number(match[3] ?? 0) };
}

function makeCrashPoint(plan: CrashPlan | null): (point: CrashPointName) => void {
  if (!plan) return () => {};
  let hits = 0;
  return (point) => {
    if (point !== plan.point || ++hits !== plan.nth) return;
    const die = () => process.kill(process.pid, 'SIGKILL');
    if (plan.delayMs > 0) setTimeout(die, plan.delayMs);
    else die();
  };
}

/** Kills the process here when `STEPWISE_CRASH_AT` names this point (tests only). */
export const crashPoint: (point: CrashPointName) => void = makeCrashPoint(parseCrashPlan(process.env['STEPWISE_CRASH_AT']));

/** The store hooks that reach the crash points inside a store (`mid-commit`), for `openStore(spec, { hooks })`. */
export const crashStoreHooks: StoreHooks = { midCommit: () => crashPoint('mid-commit') };
