import { describe, expect, it } from 'vitest';
import { backoffDelay, resolveRetry, retryDefaults } from '../../src/policy/backoff.js';
import { seededRandom } from '../../src/util/random.js';

describe('resolveRetry', () => {
  it('uses the defaults when nothing is set', () => {
    expect(resolveRetry()).toEqual(retryDefaults);
    expect(resolveRetry(undefined, undefined)).toEqual({ maxAttempts: 3, initialMs: 1000, factor: 2, maxMs: 30_000, jitter: 0.2 });
  });

  it('merges step over workflow over defaults, field by field', () => {
    const step = { maxAttempts: 5, backoff: { initial: '2s' } };
    const workflow = { maxAttempts: 2, backoff: { initial: 500, factor: 3, max: '1m' } };
    expect(resolveRetry(step, workflow)).toEqual({ maxAttempts: 5, initialMs: 2000, factor: 3, maxMs: 60_000, jitter: 0.2 });
    expect(resolveRetry(undefined, workflow)).toEqual({ maxAttempts: 2, initialMs: 500, factor: 3, maxMs: 60_000, jitter: 0.2 });
    expect(resolveRetry({ backoff: { jitter: 0 } }, workflow).jitter).toBe(0);
  });
});

describe('backoffDelay', () => {
  const exact = { ...retryDefaults, jitter: 0 };

  it('grows exponentially and stops at max', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelay(exact, attempt, () => 0.5))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
    expect(backoffDelay(exact, 10_000, () => 0.5)).toBe(30_000);
  });

  it('moves by at most the jitter fraction', () => {
    expect(backoffDelay(retryDefaults, 2, () => 0)).toBe(1600);
    expect(backoffDelay(retryDefaults, 2, () => 0.5)).toBe(2000);
    expect(backoffDelay(retryDefaults, 2, () => 0.999999)).toBe(2400);
    const random = seededRandom(7);
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(retryDefaults, 3, random);
      expect(delay).toBeGreaterThanOrEqual(3200);
      expect(delay).toBeLessThanOrEqual(4800);
    }
  });

  it('never goes above max nor below zero', () => {
    expect(backoffDelay(retryDefaults, 20, () => 0.999999)).toBe(30_000);
    expect(backoffDelay({ ...retryDefaults, jitter: 1 }, 1, () => 0)).toBe(0);
    expect(backoffDelay({ ...retryDefaults, initialMs: 60_000 }, 1, () => 0.99)).toBe(30_000);
  });

  it('is reproducible with a seeded random', () => {
    const run = () => [1, 2, 3].map((attempt) => backoffDelay(retryDefaults, attempt, seededRandom('run-1')));
    expect(run()).toEqual(run());
  });
});
