/**
 * Time for the engine: every timestamp and every wait goes through a clock, so
 * tests and the benchmark can run retries, backoffs and timeouts without sleeping.
 */
import { MAX_TIMER_MS } from '../util/timer.js';

export interface Clock {
  now(): number;
  /** Resolves after `ms` of this clock's time, or early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Resolves after `ms` of this clock's time, or early when `signal` aborts,
   * like `sleep`, but never moves the clock itself: a timeout armed beside
   * work that takes time fires only when that time has passed. A clock
   * without it uses `sleep`.
   */
  timer?(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Waits `ms` of the clock's time without moving a manual clock ({@link Clock.timer}; `sleep` on a clock without it). */
export function clockTimer(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return clock.timer ? clock.timer(ms, signal) : clock.sleep(ms, signal);
}

/**
 * The real clock. Its sleep wakes after at most {@link MAX_TIMER_MS}; its callers look at the time again when they
 * wake (a wait's timeout 30 days off, raced against a branch's call, must not wake the driver every millisecond).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (ms <= 0 || signal?.aborted) return resolve();
      const timer = setTimeout(done, Math.min(ms, MAX_TIMER_MS));
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
  timer: (ms, signal) => systemClock.sleep(ms, signal),
};

/**
 * A clock that only moves when told to, or instantly on `sleep` with `autoAdvance`.
 *
 * @example
 * ```ts
 * const clock = new ManualClock({ autoAdvance: true }); // backoffs take no real time
 * const engine = createEngine({ store, clock });
 * ```
 */
export class ManualClock implements Clock {
  private time: number;
  private readonly autoAdvance: boolean;
  private sleepers: Array<{ until: number; resolve: () => void }> = [];

  constructor(options: { start?: number; autoAdvance?: boolean } = {}) {
    this.time = options.start ?? Date.UTC(2026, 0, 1);
    this.autoAdvance = options.autoAdvance ?? false;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    if (this.autoAdvance) {
      this.advance(ms);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.sleepers.push({ until: this.time + ms, resolve });
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** Waits for `advance` (or an auto-advancing `sleep`) to reach `now + ms`; does not move time itself. */
  timer(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = { until: this.time + ms, resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          resolve();
        },
        { once: true },
      );
    });
  }

  /** Moves time forward and wakes the sleepers that are due. */
  advance(ms: number): void {
    this.time += ms;
    const due = this.sleepers.filter((s) => s.until <= this.time);
    this.sleepers = this.sleepers.filter((s) => s.until > this.time);
    for (const s of due) s.resolve();
  }
}
