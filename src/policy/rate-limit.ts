/**
 * The shared model rate limit as a pure token bucket: two buckets (requests and
 * tokens per minute) refilled continuously. A caller reserves its cost up front
 * even when the buckets cannot cover it; the deficit tells it how long to wait.
 * Reserving ahead queues callers fairly, so ten workers that hit the limit
 * together spread their calls out instead of retrying in a 429 storm.
 */

export interface RateLimitOptions {
  /** Model requests per minute across every engine sharing the store. */
  readonly requestsPerMinute?: number;
  /** Model tokens (projected input + max output) per minute. */
  readonly tokensPerMinute?: number;
}

export interface RateLimitState {
  readonly requests: number;
  readonly tokens: number;
  readonly at: number;
}

export interface RateLimitDecision {
  readonly state: RateLimitState;
  /** How long the caller waits before its call; 0 when the buckets covered it. */
  readonly waitMs: number;
}

const MINUTE = 60_000;

function refill(level: number, capacity: number, elapsedMs: number): number {
  return Math.min(capacity, level + (capacity * elapsedMs) / MINUTE);
}

function waitFor(level: number, capacity: number): number {
  return level >= 0 ? 0 : Math.ceil((-level * MINUTE) / capacity);
}

/**
 * Reserves one request of `tokens` at `now`. A state of `null` starts full.
 * A limit that is unset or not positive is not enforced. A single call larger
 * than the whole token bucket waits at most one minute.
 *
 * @example
 * const { state, waitMs } = reserve(stored, { requestsPerMinute: 50, tokensPerMinute: 40_000 }, Date.now(), 1200);
 */
export function reserve(current: RateLimitState | null, options: RateLimitOptions, now: number, tokens: number): RateLimitDecision {
  const rpm = options.requestsPerMinute ?? 0;
  const tpm = options.tokensPerMinute ?? 0;
  const elapsed = current ? Math.max(0, now - current.at) : 0;
  const requests = rpm > 0 ? (current ? refill(current.requests, rpm, elapsed) : rpm) - 1 : 0;
  const cost = tpm > 0 ? Math.min(tokens, tpm) : 0;
  const tokenLevel = tpm > 0 ? (current ? refill(current.tokens, tpm, elapsed) : tpm) - cost : 0;
  const waitMs = Math.max(rpm > 0 ? waitFor(requests, rpm) : 0, tpm > 0 ? waitFor(tokenLevel, tpm) : 0);
  return { state: { requests, tokens: tokenLevel, at: Math.max(now, current?.at ?? now) }, waitMs };
}

/** True when `options` limits anything. */
export function rateLimited(options: RateLimitOptions | undefined): options is RateLimitOptions {
  return (options?.requestsPerMinute ?? 0) > 0 || (options?.tokensPerMinute ?? 0) > 0;
}
