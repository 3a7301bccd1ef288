/** A step's abort: what an attempt's race listens to for a sibling branch's failure. */
import { describe, expect, it } from 'vitest';
import { raceAttempt } from '../../src/engine/attempt.js';
import { StepAbort } from '../../src/engine/step-abort.js';
import { LazyAbort } from '../../src/engine/lazy-abort.js';
import { ManualClock } from '../../src/engine/clock.js';

describe('StepAbort', () => {
  it('calls each listener once, with the first reason kept', () => {
    const abort = new StepAbort();
    const calls: string[] = [];
    abort.addEventListener('abort', () => calls.push('a'));
    const b = () => calls.push('b');
    abort.addEventListener('abort', b);
    abort.removeEventListener('abort', b);
    abort.abort(new Error('first'));
    abort.abort(new Error('second'));
    expect(calls).toEqual(['a']);
    expect(abort.aborted).toBe(true);
    expect((abort.reason as Error).message).toBe('first');
  });

  it("ends an attempt in flight as cancelled and aborts the attempt's signal", async () => {
    const abort = new StepAbort();
    const controller = new LazyAbort();
    let release: () => void = () => {};
    const end = raceAttempt(
      () => new Promise((resolve) => (release = () => resolve({ ok: true, output: 1, usage: { inputTokens: 0, outputTokens: 0, usd: 0 } } as never))),
      { clock: new ManualClock(), controller, timeoutMs: null, cancel: [undefined, abort] },
    );
    await Promise.resolve();
    abort.abort(new Error('sibling failed'));
    expect(await end).toEqual({ kind: 'cancelled' });
    expect(controller.signal.aborted).toBe(true);
    release();
  });

  it('ends an attempt at once when aborted before it starts', async () => {
    const abort = new StepAbort();
    abort.abort(new Error('sibling failed'));
    const end = await raceAttempt(() => Promise.reject(new Error('not run')), { clock: new ManualClock(), controller: new LazyAbort(), timeoutMs: null, cancel: abort });
    expect(end).toEqual({ kind: 'cancelled' });
  });
});
