/** The bound on a `claude` step's tool call: the engine's clock ends it, and the attempt's own end lets the timer go. */
import { describe, expect, it } from 'vitest';
import { ManualClock, type Clock } from '../../src/engine/clock.js';
import { withinDeadline } from '../../src/steps/tool-deadline.js';

describe('withinDeadline', () => {
  it('ends a call that never settles when the clock passes the time, aborting the signal the tool got', async () => {
    const clock = new ManualClock();
    let toolSignal!: AbortSignal;
    const ending = withinDeadline(clock, 1_000, new AbortController().signal, (signal) => {
      toolSignal = signal();
      return new Promise<never>(() => {});
    });
    clock.advance(999);
    expect(toolSignal.aborted).toBe(false);
    clock.advance(1);
    expect(await ending).toEqual({ timedOut: true });
    expect(toolSignal.aborted).toBe(true);
  });

  it('returns what a call settles with in time, and lets its timer go', async () => {
    const timers: AbortSignal[] = [];
    const clock: Clock = { now: () => 0, sleep: async () => {}, timer: (_ms, signal) => (timers.push(signal!), new Promise(() => {})) };
    expect(await withinDeadline(clock, 1_000, new AbortController().signal, async () => 'answer')).toEqual({ done: 'answer' });
    expect(timers.map((s) => s.aborted)).toEqual([true]);
  });

  it('lets its timer go when the attempt is stopped from outside, though the tool never settles', async () => {
    const timers: AbortSignal[] = [];
    const clock: Clock = { now: () => 0, sleep: async () => {}, timer: (_ms, signal) => (timers.push(signal!), new Promise(() => {})) };
    const attempt = new AbortController();
    void withinDeadline(clock, 600_000, attempt.signal, () => new Promise<never>(() => {}));
    expect(timers.map((s) => s.aborted)).toEqual([false]);
    attempt.abort(new Error('cancelled'));
    expect(timers.map((s) => s.aborted)).toEqual([true]);
  });
});
