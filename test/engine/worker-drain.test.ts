/**
 * A draining worker lets go of every run it holds, also one whose drive was
 * stopped before it changed anything (claimed just as the drain began) or
 * failed: the process is about to exit, so keeping such a lease until it
 * expires would only hold the run back from the other workers.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { work, type WorkerHost } from '../../src/engine/worker.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { makeRun } from '../../src/testing/store-fixtures.js';

describe('a draining worker', () => {
  it('releases a run whose drive the drain stopped before it changed anything', async () => {
    const store = createMemoryStore();
    const clock = new ManualClock({ autoAdvance: false });
    const run = makeRun({ status: 'running', lease: null, wakeAt: null });
    await store.create(run, []);
    const drain = new AbortController();
    const host: WorkerHost = {
      store,
      clock,
      drive: async (record) => {
        drain.abort(); // SIGTERM arrives while the run is claimed: the drive stops at once, having done nothing
        return { status: record.status, updatedAt: record.updatedAt };
      },
    };
    const summary = await work(host, { owner: 'w-1', signal: drain.signal, pollMs: 1 });
    expect(summary.claimed).toBe(1);
    expect((await store.get(run.id))?.lease).toBeNull();
  });

  it('releases a run whose drive threw while draining', async () => {
    const store = createMemoryStore();
    const clock = new ManualClock({ autoAdvance: false });
    const run = makeRun({ status: 'running', lease: null, wakeAt: null });
    await store.create(run, []);
    const drain = new AbortController();
    const errors: unknown[] = [];
    const host: WorkerHost = {
      store,
      clock,
      drive: async () => {
        drain.abort();
        throw new Error('the tool module failed to load');
      },
    };
    await work(host, { owner: 'w-1', signal: drain.signal, pollMs: 1, onError: (_id, error) => errors.push(error) });
    expect(errors).toHaveLength(1);
    expect((await store.get(run.id))?.lease).toBeNull();
  });
});
