/**
 * One request to the model server with its SDK retries, bounded as a whole: the SDK's `timeout` stops at a reply's
 * headers and it sleeps whatever `retry-after` a server asks, so every request Stepwise makes (`messages.create`,
 * `count_tokens`) goes through {@link boundedRequest}, which ends it at a deadline or when the step's signal aborts.
 */
import { MAX_TIMER_MS } from '../util/timer.js';
import type { ModelConfig } from './client.js';

/** What each retry of the SDK may wait (its backoff, a server's `retry-after`) within a call's deadline. */
export const RETRY_WAIT_ALLOWANCE_MS = 30_000;

/**
 * How long one model call may take in all: every request its timeout (which the SDK applies only until the reply's
 * headers), and each retry {@link RETRY_WAIT_ALLOWANCE_MS} of waiting. A reply whose body stalls after its headers, or
 * a `retry-after` of an hour, then ends the call instead of holding the step for ever.
 */
export function callDeadlineMs(timeoutMs: number, maxRetries: number): number {
  // The longest delay a timer takes (about 24.8 days): a step's `timeout: 20d` with retries is capped there.
  return Math.min(Math.ceil(timeoutMs * (maxRetries + 1) + RETRY_WAIT_ALLOWANCE_MS * maxRetries), MAX_TIMER_MS);
}

/** A request that did not complete within its deadline (the step's own signal was not aborted). */
export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
  constructor(
    readonly deadlineMs: number,
    timeoutMs: number,
    maxRetries: number,
  ) {
    super(`no complete reply within ${deadlineMs} ms (timeout ${timeoutMs} ms per request, ${maxRetries} retries): the model server stalled or asked to wait too long`);
  }
}

/** The SDK's per-request options: its timeout and retries, and the signal that ends the request. */
export interface RequestOptions {
  readonly timeout: number;
  readonly maxRetries: number;
  readonly signal: AbortSignal;
}

/**
 * Sends one request with `send`, given the SDK options that bound it: `timeoutMs` per try, the config's retries,
 * and a signal aborted by `signal` (the step's: a cancel, a sibling's failure, the drive's end) or by the call's
 * deadline ({@link callDeadlineMs}). Rejects with {@link DeadlineExceeded} when the deadline passes, with the
 * step signal's reason when that aborts, and with the SDK's error otherwise.
 *
 * @example
 * ```ts
 * const reply = await boundedRequest(config, { timeoutMs: 60_000, signal }, (options) => config.client.messages.create(params, options));
 * ```
 */
export async function boundedRequest<T>(
  config: Pick<ModelConfig, 'maxRetries'>,
  bound: { readonly timeoutMs: number; readonly signal?: AbortSignal | undefined },
  send: (options: RequestOptions) => Promise<T>,
): Promise<T> {
  const { timeoutMs, signal: step } = bound;
  const deadlineMs = callDeadlineMs(timeoutMs, config.maxRetries);
  const deadline = AbortSignal.timeout(deadlineMs);
  const signal = step ? AbortSignal.any([step, deadline]) : deadline;
  try {
    // The SDK may not notice an abort while it reads a body that stalls: the request is raced against the signal too.
    return await within(send({ timeout: timeoutMs, maxRetries: config.maxRetries, signal }), signal);
  } catch (error) {
    if (step?.aborted) throw step.reason;
    if (deadline.aborted) throw new DeadlineExceeded(deadlineMs, timeoutMs, config.maxRetries);
    throw error;
  }
}

/** `work`, or a rejection with `signal`'s reason once it aborts, whichever comes first. */
function within<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}
