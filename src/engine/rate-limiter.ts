/**
 * The model rate limit shared by every engine on one store: before each model
 * call the engine reserves the call in a token bucket kept with
 * `store.updateShared` (one row, updated atomically), then sleeps out its wait.
 */
import { rateLimited, reserve, type RateLimitOptions, type RateLimitState } from '../policy/rate-limit.js';
import type { Store } from '../store/types.js';
import type { Clock } from './clock.js';

/** The shared-state key of the model rate limit. */
export const RATE_LIMIT_KEY = 'ratelimit:model';

export type BeforeModelCall = (projectedTokens: number, signal?: AbortSignal) => Promise<void>;

/** A `beforeModelCall` hook enforcing `options`, or undefined when they limit nothing. */
export function createRateLimiter(store: Store, clock: Clock, options: RateLimitOptions | undefined): BeforeModelCall | undefined {
  if (!rateLimited(options)) return undefined;
  return async (projectedTokens, signal) => {
    let waitMs = 0;
    await store.updateShared<RateLimitState>(RATE_LIMIT_KEY, (current) => {
      const decision = reserve(current, options, clock.now(), projectedTokens);
      waitMs = decision.waitMs;
      return decision.state;
    });
    if (waitMs > 0) await clock.sleep(waitMs, signal);
  };
}
