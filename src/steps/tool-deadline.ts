/**
 * A tool call bounded by a time on the engine's clock, as a `claude` step's `timeout` bounds the tool the step
 * runs (a `tool` step's whole attempt is bounded by the work handler instead): when the time passes first, the
 * tool's signal is aborted and the call ends as timed out, even if the tool ignores its signal; whatever it
 * settles with later is dropped.
 */
import { clockTimer, systemClock, type Clock } from '../engine/clock.js';
import { LazyAbort } from '../engine/lazy-abort.js';

/** How a bounded call ended: with what it returned, or timed out. */
export type Bounded<T> = { readonly done: T } | { readonly timedOut: true };

const TIMED_OUT: unique symbol = Symbol('timed out');

/** Why the timer is let go once the call has settled (a reason given, so no DOMException is built per call). */
const SETTLED = 'the tool call settled';

/**
 * Runs `call` within `timeoutMs` of `clock`'s time. `call` gets the signal to hand the tool: one aborted with
 * `attempt` (a cancel, a sibling's failure, the drive's end) and when the time passes, made only if the tool reads it.
 *
 * @example
 * ```ts
 * const end = await withinDeadline(env.clock, 3_000, env.signal, (signal) => runTool(input, signal));
 * if ('timedOut' in end) // fail the attempt as a retryable `timeout`
 * ```
 */
export async function withinDeadline<T>(
  clock: Clock | undefined,
  timeoutMs: number,
  attempt: AbortSignal,
  call: (signal: () => AbortSignal) => Promise<T>,
): Promise<Bounded<T>> {
  const own = new LazyAbort();
  let signal: AbortSignal | null = null;
  const signalOf = () => (signal ??= AbortSignal.any([attempt, own.signal]));
  // The timer is let go when the call settles, or when the attempt is stopped from outside (a cancel, the drive's
  // end), whose outcome nobody reads then: a pending timer would keep the process up until the timeout.
  const timer = new AbortController();
  const stop = () => timer.abort(SETTLED);
  attempt.addEventListener('abort', stop, { once: true });
  // Armed before the call starts, so a manual clock moved as soon as the tool runs passes it.
  const time = new Promise<typeof TIMED_OUT>((resolve) => {
    void clockTimer(clock ?? systemClock, timeoutMs, timer.signal).then(() => {
      if (!timer.signal.aborted) resolve(TIMED_OUT);
    });
  });
  try {
    const end = await Promise.race([call(signalOf).then((done) => ({ done })), time]);
    if (end !== TIMED_OUT) return end;
    own.abort(new Error('the step attempt ended: timeout'));
    return { timedOut: true };
  } finally {
    attempt.removeEventListener('abort', stop);
    stop();
  }
}
