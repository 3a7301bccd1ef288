/**
 * Cancel requests: one poller per engine for all its drives (one timer, on the
 * clock it is given), each drive told of a request for its own run, whether
 * another engine recorded it in the store or this one did.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { createCancelRequests } from '../../src/engine/cancel-requests.js';
import { createMemoryStore } from '../../src/store/memory.js';

/** Lets the store reads of a poll settle (the memory store answers in microtasks). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A timer on `clock` that counts how often it is armed. */
function countedTimer(clock: ManualClock) {
  let armed = 0;
  return {
    timer: (ms: number) => {
      armed++;
      return clock.timer(ms);
    },
    armed: () => armed,
  };
}

describe('cancel requests', () => {
  it('one poller serves every drive of an engine: two watched runs both see the requests another engine records', async () => {
    const store = createMemoryStore();
    const clock = new ManualClock();
    const timer = countedTimer(clock);
    const cancels = createCancelRequests(store, { pollMs: 1000, timer: timer.timer });
    const elsewhere = createCancelRequests(store, { pollMs: 1000 });
    const a = cancels.watch('run-a');
    const b = cancels.watch('run-b');
    const untouched = cancels.watch('run-c');
    expect(timer.armed()).toBe(1);
    const heard: string[] = [];
    a.source.addEventListener('abort', () => heard.push('a'));
    b.source.addEventListener('abort', () => heard.push('b'));

    await elsewhere.request('run-a', { reason: 'stop a', at: 1 });
    await elsewhere.request('run-b', { reason: 'stop b', at: 2 });
    await settle();
    expect(a.request()).toBeNull(); // not polled yet
    clock.advance(999);
    await settle();
    expect(a.source.aborted).toBe(false);
    clock.advance(1);
    await settle();
    expect(heard.sort()).toEqual(['a', 'b']);
    expect(a.request()).toEqual({ reason: 'stop a', at: 1 });
    expect(b.request()).toEqual({ reason: 'stop b', at: 2 });
    expect(a.signal.aborted).toBe(true);
    expect((b.signal.reason as Error).message).toBe('run "run-b" was cancelled: stop b');
    expect(untouched.source.aborted).toBe(false);
    expect(untouched.signal.aborted).toBe(false);
    // Still one timer for the engine, armed again for the next poll.
    expect(timer.armed()).toBe(2);

    // A request made later reaches a run still watched at the next poll; a signal read before it aborts with it.
    const signal = untouched.signal;
    await elsewhere.request('run-c', { reason: 'stop c', at: 3 });
    clock.advance(1000);
    await settle();
    expect(signal.aborted).toBe(true);

    // Nothing watched: no poll, no timer.
    for (const watch of [a, b, untouched]) watch.stop();
    clock.advance(1000);
    await settle();
    const armed = timer.armed();
    clock.advance(5000);
    await settle();
    expect(timer.armed()).toBe(armed);
    // Watching again starts the poller again.
    const again = cancels.watch('run-d');
    expect(timer.armed()).toBe(armed + 1);
    again.stop();
  });

  it('tells a drive of this engine at once, and reads the store when asked (a run that may have a request already)', async () => {
    const store = createMemoryStore();
    const clock = new ManualClock();
    const cancels = createCancelRequests(store, { pollMs: 1000, timer: (ms) => clock.timer(ms) });
    const watch = cancels.watch('run-a');
    await cancels.request('run-a', { reason: 'here', at: 5 });
    expect(watch.source.aborted).toBe(true);
    expect(watch.signal.aborted).toBe(true);
    expect(watch.request()).toEqual({ reason: 'here', at: 5 });
    watch.stop();

    await store.updateShared('cancel:run-b', () => ({ reason: 'left behind', at: 0 }));
    const later = cancels.watch('run-b');
    expect(later.request()).toBeNull();
    await later.check();
    expect(later.request()).toEqual({ reason: 'left behind', at: 0 });
    expect(later.source.aborted).toBe(true);
    later.stop();
  });

  it('a poll reads every request in one readSharedPrefix, however many runs are watched', async () => {
    const memory = createMemoryStore();
    const reads: string[] = [];
    const store = {
      ...memory,
      readShared: <T>(key: string) => (reads.push(`one ${key}`), memory.readShared<T>(key)),
      readSharedPrefix: <T>(prefix: string) => (reads.push(`prefix ${prefix}`), memory.readSharedPrefix!<T>(prefix)),
    };
    const clock = new ManualClock();
    const cancels = createCancelRequests(store, { pollMs: 1000, timer: (ms) => clock.timer(ms) });
    const watches = ['run-a', 'run-b', 'run-c'].map((id) => cancels.watch(id));
    await memory.updateShared('cancel:run-b', () => ({ reason: 'elsewhere', at: 1 }));
    await memory.updateShared('cancel:run-z', () => ({ reason: 'a run not watched here', at: 2 }));
    clock.advance(1000);
    await settle();
    expect(reads).toEqual(['prefix cancel:']);
    expect(watches.map((w) => w.request()?.reason ?? null)).toEqual([null, 'elsewhere', null]);
    // A drive told the request with its claim takes it without reading.
    const told = cancels.watch('run-d');
    await told.check({ reason: 'read with the claim', at: 3 });
    expect(told.source.aborted).toBe(true);
    const none = cancels.watch('run-e');
    await none.check(null);
    expect(none.request()).toBeNull();
    expect(reads).toEqual(['prefix cancel:']);
    for (const watch of [...watches, told, none]) watch.stop();
  });
});
