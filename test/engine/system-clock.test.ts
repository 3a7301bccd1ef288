/**
 * The system clock's sleep never hands `setTimeout` more than it takes: a longer delay fires after 1 ms, so a wait's
 * timeout 30 days off, raced against a branch's call, would wake the driver every millisecond.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/engine/clock.js';
import { MAX_TIMER_MS } from '../../src/util/timer.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('systemClock', () => {
  it('sleeps at most 2^31 - 1 ms at a time, and a stop ends the sleep', async () => {
    const delays: number[] = [];
    const real = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      delays.push(ms ?? 0);
      return real(fn, 0);
    }) as typeof setTimeout);
    const thirtyDays = 30 * 24 * 3600 * 1000;
    await systemClock.sleep(thirtyDays);
    const stop = new AbortController();
    const timer = systemClock.timer!(thirtyDays, stop.signal);
    stop.abort();
    await timer;
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
    expect(delays).toEqual([MAX_TIMER_MS, MAX_TIMER_MS]);
  });
});
