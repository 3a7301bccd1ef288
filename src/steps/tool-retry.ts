/**
 * Which tool errors of a `claude` step are worth another attempt: the error's
 * own `retryable` flag when it sets one, else the step's `retryOn` list when it
 * has one, else every tool error (retried with its message fed back).
 */
import type { ThrownError } from './invoke-tool.js';

/**
 * Whether `thrown` matches one entry of `retryOn`: an entry equal to the
 * error's `reason`, `code` or `name`, or found in its message.
 *
 * @example
 * matchesRetryOn({ message: 'cost centre CC-100 is closed', reason: 'cost_centre_closed' }, ['cost_centre_closed']); // true
 * matchesRetryOn({ message: 'cost centre CC-100 is closed' }, ['is closed']); // true
 */
export function matchesRetryOn(thrown: ThrownError, retryOn: readonly string[]): boolean {
  return retryOn.some((entry) => entry === thrown.reason || entry === thrown.code || entry === thrown.name || thrown.message.includes(entry));
}

/** Whether a `claude` step retries a tool error; `fallback` is what the call reported (an open breaker is never retried). */
export function toolErrorRetryable(thrown: ThrownError | undefined, retryOn: readonly string[] | undefined, fallback: boolean): boolean {
  if (!thrown) return fallback;
  if (thrown.retryable !== undefined) return thrown.retryable;
  return retryOn === undefined ? true : matchesRetryOn(thrown, retryOn);
}
