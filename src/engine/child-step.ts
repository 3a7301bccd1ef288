/**
 * What the handlers of the child-run kinds (`workflow`, `map`) share: the
 * parent's event for a child that rested or ended, and the phases where the
 * step only rests. (Kinds import this; it imports nothing of the driver.)
 */
import { stepRunOf } from '../compile/context.js';
import type { RunEvent, StepFailure } from '../compile/events.js';
import type { Advance } from '../kinds/types.js';
import type { RunRecord, Usage } from '../run/types.js';
import type { RunScope } from './scope.js';
import type { CancelSource } from './step-abort.js';
import { LeaseLostError } from '../store/types.js';
import { locatedMessage, originBelow } from './failure-origin.js';

/**
 * Why a child run did not end `done`, as the parent step's failure: the child's failed step and, for a failure that
 * came up from further below, the way down to where it began and its message (./failure-origin.ts), not the
 * messages of the levels between.
 */
export function childFailure(child: RunRecord): StepFailure {
  const what = child.status === 'budget_exhausted' ? 'ran out of budget' : child.status === 'cancelled' ? 'was cancelled' : 'failed';
  const origin = originBelow(child.failure?.step ?? null, child.failure ?? { message: child.status });
  const message = locatedMessage(`the child run ${child.id} (${child.workflow}) ${what}`, origin);
  return { kind: child.status === 'budget_exhausted' ? 'budget' : (child.failure?.kind ?? 'tool_error'), message, origin };
}

/** The parent's event for its child after a drive: it ended (`step.done` / `step.failed`) or rests (`child.rest`). */
export function childSettled(step: string, child: RunRecord, at: number, usage: Usage = child.usage): Extract<RunEvent, { type: 'step.done' | 'step.failed' | 'child.rest' }> {
  switch (child.status) {
    case 'done':
      return { type: 'step.done', step, at, output: child.output ?? null, usage };
    case 'waiting':
      return { type: 'child.rest', step, at, waiting: true, wakeAt: child.wakeAt, usage };
    case 'running':
      return { type: 'child.rest', step, at, waiting: false, wakeAt: child.wakeAt, usage };
    default:
      return { type: 'step.failed', step, at, usage, error: childFailure(child), retryable: false, retryAt: null };
  }
}

/**
 * Path tests only (`stepwise test`, `DriverDeps.forceFailure`): the message of the failure a path forces on a
 * `workflow` or `map` step as it starts, which then starts no child run (its error route); null on other runs.
 */
export function forcedFailure(run: RunScope, id: string): string | null {
  return run.forceFailure?.(id, run.runId) === true ? `failure forced by the path test at "${id}"` : null;
}

/** A step whose children rest until `retryAt` (a timer of theirs): rest until then (the driver may sleep). */
export function restingUntil(run: RunScope, id: string): Advance | null {
  const due = stepRunOf(run.context(), id).retryAt;
  return due !== null && due > run.clock.now() ? { kind: 'rest', wakeAt: due, sleep: true, crash: 'backoff' } : null;
}

/** Whether a child run has a timer due at `now` (a backoff, a wait's timeout, its deadline) while it runs or waits. */
export const timerDue = (child: RunRecord, now: number): boolean =>
  (child.status === 'running' || child.status === 'waiting') && child.wakeAt !== null && child.wakeAt <= now;

/**
 * In a drive that fires only what is due (`due` mode: before an event or a cancel), whether step `id` drives its children: only
 * when one of them has a timer due (their own drives, in the same mode, fire it and start no work). Otherwise the step
 * stays where it is, its children not driven, as a work step's attempt is not started.
 */
export async function childTimersDue(run: RunScope, id: string): Promise<boolean> {
  const visit = run.context().visits[id] ?? 1;
  const now = run.clock.now();
  return (await run.children!.list(run.runId)).some((child) => {
    const link = child.options.parent;
    return link?.step === id && link.visit === visit && timerDue(child, now);
  });
}

/** A step whose child waits for an event from outside: the run waits (or wakes the step when the child's timer came). */
export function waitingChild(run: RunScope, id: string, data: Record<string, unknown>): Advance {
  const now = run.clock.now();
  const due = stepRunOf(run.context(), id).retryAt;
  if (due !== null && due <= now) {
    run.send({ type: 'child.wake', step: id, at: now });
    return { kind: 'moved' };
  }
  return {
    kind: 'rest',
    wakeAt: due,
    force: run.status() !== 'waiting',
    crash: 'waiting',
    onCommit: () => run.note({ ...run.where(id), event: 'waiting', data: { ...data, wakeAt: run.wakeAt() } }),
  };
}

/**
 * Why a step's children stopped while its effect drove them, if something stopped them: `drive`, this drive was
 * stopped (its lease is gone, thrown; or the run is a child its parent stopped, which charges what was spent below it),
 * or `charge`, the step was aborted (a sibling branch failed fast) or the run is being cancelled, so the run is charged
 * now what its children spent (./child-budget.ts `chargeAborted`), with `reason`.
 */
export function stopOf(run: RunScope, stop: CancelSource): { readonly kind: 'drive' } | { readonly kind: 'charge'; readonly reason: unknown } | null {
  if (run.signal?.aborted) {
    if (run.signal.reason instanceof LeaseLostError) throw run.signal.reason;
    return { kind: 'drive' };
  }
  if (stop.aborted) return { kind: 'charge', reason: stop.reason };
  const cancel = run.cancel();
  return cancel?.aborted ? { kind: 'charge', reason: cancel.reason } : null;
}

/** Whether the drive stopped under the step: its lease is gone (thrown), it was aborted or a cancel came (the driver takes over). */
export function interruptedDrive(run: RunScope): boolean {
  if (run.signal?.aborted) {
    if (run.signal.reason instanceof LeaseLostError) throw run.signal.reason;
    return true;
  }
  return run.cancel()?.aborted === true;
}
