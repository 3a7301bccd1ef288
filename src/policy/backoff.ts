/**
 * Retry policy: merges the step's and the workflow's `retry` over the
 * defaults, and computes the delay before a retry (exponential, capped, with
 * jitter). Randomness is passed in, so delays are reproducible.
 */
import type { RetryPolicy } from '../definition/schema.js';
import { parseDuration } from '../util/duration.js';

/** A retry policy with every field set; durations in milliseconds. */
export interface ResolvedRetry {
  /** Attempts per step visit, the first one included. */
  readonly maxAttempts: number;
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
  /** Fraction of the delay added or removed at random, 0 to 1. */
  readonly jitter: number;
}

/** The policy when a definition says nothing: 3 attempts, 1 s doubling to at most 30 s, ±20 %. */
export const retryDefaults: ResolvedRetry = { maxAttempts: 3, initialMs: 1000, factor: 2, maxMs: 30_000, jitter: 0.2 };

/**
 * Merges retry policies field by field; earlier arguments win, so pass the
 * most specific first. Missing fields come from {@link retryDefaults}.
 *
 * @example
 * resolveRetry(step.retry, workflow.retry);
 * resolveRetry({ maxAttempts: 5 }, { backoff: { initial: '2s' } });
 * // { maxAttempts: 5, initialMs: 2000, factor: 2, maxMs: 30000, jitter: 0.2 }
 */
export function resolveRetry(...policies: (RetryPolicy | undefined)[]): ResolvedRetry {
  const pick = <T>(get: (policy: RetryPolicy) => T | undefined): T | undefined => {
    for (const policy of policies) {
      const value = policy === undefined ? undefined : get(policy);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  const initial = pick((p) => p.backoff?.initial);
  const max = pick((p) => p.backoff?.max);
  return {
    maxAttempts: pick((p) => p.maxAttempts) ?? retryDefaults.maxAttempts,
    initialMs: initial === undefined ? retryDefaults.initialMs : parseDuration(initial),
    factor: pick((p) => p.backoff?.factor) ?? retryDefaults.factor,
    maxMs: max === undefined ? retryDefaults.maxMs : parseDuration(max),
    jitter: pick((p) => p.backoff?.jitter) ?? retryDefaults.jitter,
  };
}

/**
 * Delay in whole milliseconds before retry number `attempt` (1 = the first
 * retry): `min(maxMs, initialMs × factor^(attempt-1))`, then moved by up to
 * ± `jitter` of itself using `random()` in [0, 1), and kept within
 * `[0, maxMs]`.
 *
 * @example
 * backoffDelay(retryDefaults, 1, () => 0.5); // 1000
 * backoffDelay(retryDefaults, 3, () => 0.5); // 4000
 */
export function backoffDelay(resolved: ResolvedRetry, attempt: number, random: () => number): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const base = Math.min(resolved.maxMs, resolved.initialMs * resolved.factor ** exponent);
  const jittered = base * (1 + resolved.jitter * (2 * random() - 1));
  return Math.round(Math.min(resolved.maxMs, Math.max(0, jittered)));
}
