/**
 * One step attempt raced against what may end it from outside: the step's
 * `timeout` on the engine's clock, a cancel request, and the drive's own abort
 * (a lost lease). Whichever comes first ends the attempt and aborts the signal
 * the step was given, so a tool that ignores its signal still cannot hold a
 * run: its promise is left behind and whatever it settles with is dropped.
 */
import type { StepOutcome } from '../steps/types.js';
import { clockTimer, type Clock } from './clock.js';
import type { CancelSource } from './step-abort.js';

export type AttemptEnd =
  | { readonly kind: 'outcome'; readonly outcome: StepOutcome }
  /** The step threw: an engine error (a store failure, a missing tool), not a tool's own failure. */
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'timeout'; readonly timeoutMs: number }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'aborted' };

export interface AttemptLimits {
  readonly clock: Clock;
  /** The attempt's signal: aborted here when the attempt ends early. */
  readonly controller: Pick<AbortController, 'abort'>;
  /** Time allowed on `clock`; null for none. */
  readonly timeoutMs: number | null;
  /** Cancel requests: for the run, for the step (each listened to on its own, no combined signal is made). */
  readonly cancel?: CancelSource | ReadonlyArray<CancelSource | undefined>;
  /** The drive is being torn down (its lease was lost). */
  readonly abort?: AbortSignal;
}

/** Why an attempt's own listeners are let go when it has ended (a reason given, so no DOMException is built per attempt). */
const SETTLED = 'the attempt settled';

/**
 * Runs `run` as one attempt within `limits`.
 *
 * @example
 * ```ts
 * const attempt = new AbortController();
 * const end = await raceAttempt(() => executor.execute({ ...env, signal: attempt.signal }, ready), { clock, controller: attempt, timeoutMs: 5_000 });
 * if (end.kind === 'timeout') // fail the attempt as a retryable `timeout`
 * ```
 */
export async function raceAttempt(run: () => Promise<StepOutcome>, limits: AttemptLimits): Promise<AttemptEnd> {
  const { controller } = limits;
  if (limits.abort?.aborted) return { kind: 'aborted' };
  const cancels = limits.cancel === undefined ? [] : Array.isArray(limits.cancel) ? (limits.cancel as ReadonlyArray<CancelSource | undefined>) : [limits.cancel as CancelSource];
  if (cancels.some((signal) => signal?.aborted)) return { kind: 'cancelled' };
  /** What lets go of the attempt's listeners and timer once it has ended. */
  const cleanups: Array<() => void> = [];
  const ends: Array<Promise<AttemptEnd>> = [
    Promise.resolve()
      .then(run)
      .then(
        (outcome): AttemptEnd => ({ kind: 'outcome', outcome }),
        (error: unknown): AttemptEnd => ({ kind: 'error', error }),
      ),
  ];
  /** Settles the race from outside (a cancel, the drive's abort): one promise for all the signals. */
  let outside: ((end: AttemptEnd) => void) | null = null;
  const onSignal = (signal: CancelSource | undefined, end: AttemptEnd) => {
    if (!signal) return;
    if (outside === null) ends.push(new Promise<AttemptEnd>((resolve) => (outside = resolve)));
    const fire = () => outside?.(end);
    signal.addEventListener('abort', fire, { once: true });
    cleanups.push(() => signal.removeEventListener('abort', fire));
  };
  for (const signal of cancels) onSignal(signal, { kind: 'cancelled' });
  onSignal(limits.abort, { kind: 'aborted' });
  if (limits.timeoutMs !== null) {
    const timeoutMs = limits.timeoutMs;
    const timer = new AbortController();
    cleanups.push(() => timer.abort(SETTLED));
    ends.push(
      clockTimer(limits.clock, timeoutMs, timer.signal).then(() => new Promise<AttemptEnd>((resolve) => {
        if (!timer.signal.aborted) resolve({ kind: 'timeout', timeoutMs });
      })),
    );
  }
  try {
    const end = ends.length === 1 ? await (ends[0] as Promise<AttemptEnd>) : await Promise.race(ends);
    if (end.kind !== 'outcome' && end.kind !== 'error') controller.abort(new Error(`the step attempt ended: ${end.kind}`));
    return end;
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
}
