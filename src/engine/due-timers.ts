/**
 * Timers that came due before an event or a cancel arrived. `send` fires them
 * first (a wait's timeout, the workflow deadline, a due retry, a child run's
 * timers) with the drive a worker makes of a due run, and delivers the event
 * only if the run still accepts it afterwards: an approval that comes after
 * its window closed finds the run gone on by `onTimeout`, or failed with
 * `deadline`, and is refused. `cancel` fires them first too, starting no work
 * they lead to, and cancels only a run still going afterwards. An engine that
 * stops (a server draining) fires them all the same: firing starts no work.
 * This file says when that drive is needed and, for the refusal, what it did.
 */
import type { RunRecord } from '../run/types.js';
import { acceptedEvents } from './child-events.js';
import { deadlineAt, waitTimeoutAt } from './position.js';
import { snapshotOf } from './view.js';

/** Whether a timer of the run is due at `now`: its `wakeAt`, which for a parent is also the earliest of its children's. */
export function hasDueTimer(record: RunRecord, now: number): boolean {
  return record.wakeAt !== null && record.wakeAt <= now;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * What the due timers of `before` did, in words, for the refusal of an event `type` (for `step`, if named) that the
 * run no longer accepts: `the wait at "ask" timed out at 2026-01-01T00:00:02.000Z (the run is now done)`.
 */
export function firedTimers(before: RunRecord, after: RunRecord, type: string, now: number, step?: string): string {
  const workflow = before.definition.workflow;
  const { context } = snapshotOf(before);
  const fired: string[] = [];
  const deadline = deadlineAt(workflow, context);
  if (deadline !== null && deadline <= now) fired.push(`the workflow deadline passed at ${iso(deadline)}`);
  else {
    for (const wait of acceptedEvents(before)) {
      if (!wait.events.includes(type) || (step !== undefined && wait.step !== step)) continue;
      const timeoutAt = waitTimeoutAt(workflow, wait.step, context);
      if (timeoutAt !== null && timeoutAt <= now) fired.push(`the wait at "${wait.step}" timed out at ${iso(timeoutAt)}`);
    }
  }
  // The timer was a child run's, or a retry's: when it came due.
  if (fired.length === 0) fired.push(`a timer due at ${iso(before.wakeAt ?? now)} fired`);
  const status = after.status === 'failed' && after.failure ? `failed, ${after.failure.kind}` : after.status;
  return `${fired.join(', ')} (the run is now ${status})`;
}
