/** The shared model rate limit: a pure token bucket that reserves ahead. */
import { describe, expect, it } from 'vitest';
import { rateLimited, reserve, type RateLimitState } from '../../src/policy/rate-limit.js';

describe('reserve (token bucket)', () => {
  it('starts full and lets a burst through, then makes callers wait their turn', () => {
    const limits = { requestsPerMinute: 60 };
    let state: RateLimitState | null = null;
    const waits: number[] = [];
    for (let i = 0; i < 62; i++) {
      const d = reserve(state, limits, 0, 0);
      state = d.state;
      waits.push(d.waitMs);
    }
    expect(waits.slice(0, 60).every((w) => w === 0)).toBe(true);
    expect(waits.slice(60)).toEqual([1000, 2000]);
  });

  it('refills with time and limits tokens per minute', () => {
    const limits = { tokensPerMinute: 6000 };
    let d = reserve(null, limits, 0, 6000);
    expect(d.waitMs).toBe(0);
    d = reserve(d.state, limits, 0, 600);
    expect(d.waitMs).toBe(6000);
    // 30 s later half the bucket is back, minus the 600 already reserved.
    d = reserve(d.state, limits, 30_000, 1000);
    expect(d.waitMs).toBe(0);
    expect(d.state.tokens).toBe(1400);
  });

  it('caps one oversized call at the bucket and enforces nothing without limits', () => {
    expect(reserve(null, { tokensPerMinute: 100 }, 0, 10_000).waitMs).toBe(0);
    expect(reserve(null, {}, 0, 10_000)).toEqual({ state: { requests: 0, tokens: 0, at: 0 }, waitMs: 0 });
    expect(rateLimited({})).toBe(false);
    expect(rateLimited({ requestsPerMinute: 5 })).toBe(true);
  });
});
