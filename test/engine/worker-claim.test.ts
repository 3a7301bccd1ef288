/**
 * A worker on a store with `claimReleases`: the release of a run it finished
 * rides on its next claim, and the claim brings the new runs' cancel requests,
 * so a worker step costs one store call. Whatever way the worker stops
 * (idle, drained, after a failed claim), no run it finished stays leased.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { work, type WorkerHost } from '../../src/engine/worker.js';
import { createMemoryStore } from '../../src/store/memory.js';
import type { ClaimOptions, Store } from '../../src/store/types.js';
import { makeRun, patch } from '../../src/testing/store-fixtures.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';

/** `store` with its claims (and what they carried), releases and shared reads recorded. */
function recorded(store: Store, claimFails?: (n: number) => boolean) {
  const claims: ClaimOptions[] = [];
  const released: string[] = [];
  const reads: string[] = [];
  const wrapped: Store = {
    ...store,
    async claim(options) {
      claims.push(options);
      if (claimFails?.(claims.length)) throw new Error('the connection broke');
      return store.claim(options);
    },
    release: (runId, owner) => (released.push(runId), store.release(runId, owner)),
    readShared: (key) => (reads.push(key), store.readShared(key)),
  };
  return { store: wrapped, claims, released, reads, carried: () => claims.flatMap((c) => c.release ?? []) };
}

/** A host whose drive finishes each run: commits it `done` under its lease. */
function finishingHost(store: Store): WorkerHost {
  return {
    store,
    clock: new ManualClock({ autoAdvance: false }),
    drive: async (record, { lease }) => {
      const done = await store.commit(record.id, patch({ status: 'done' }), [], record.revision, lease.owner);
      return { status: done.status, updatedAt: done.updatedAt };
    },
  };
}

describe('a worker on a store whose claims carry releases', () => {
  it('releases every run it finished through its next claim, none by a release of its own, and exits idle with none leased', async () => {
    const memory = createMemoryStore();
    const runs = [makeRun({ updatedAt: 1 }), makeRun({ updatedAt: 2 }), makeRun({ updatedAt: 3 })];
    for (const run of runs) await memory.create(run, []);
    const rec = recorded(memory);
    const summary = await work(finishingHost(rec.store), { owner: 'w-1', concurrency: 2, pollMs: 1, exitWhenIdle: true });
    expect(summary.claimed).toBe(3);
    expect(rec.released).toEqual([]);
    expect(rec.carried().sort()).toEqual(runs.map((r) => r.id).sort());
    for (const run of runs) expect((await memory.get(run.id))?.lease).toBeNull();
  });

  it('a drained worker releases what its next claim would have carried', async () => {
    const memory = createMemoryStore();
    const runs = [makeRun({ updatedAt: 1 }), makeRun({ updatedAt: 2 })];
    for (const run of runs) await memory.create(run, []);
    const drain = new AbortController();
    // The second claim fails (carrying the first run's release), and the drain begins: nothing claims again.
    const rec = recorded(memory, (n) => {
      if (n === 2) drain.abort();
      return n === 2;
    });
    const errors: unknown[] = [];
    await work(finishingHost(rec.store), { owner: 'w-1', concurrency: 1, pollMs: 1, signal: drain.signal, onError: (_id, e) => errors.push(e) });
    expect(errors).toHaveLength(1);
    expect(rec.claims[1]?.release).toEqual([runs[0]!.id]);
    expect(rec.released).toEqual([runs[0]!.id]);
    for (const run of runs) expect((await memory.get(run.id))?.lease).toBeNull();
  });
  it('a drained worker releases the runs it finished before it waits for the steps still in flight', async () => {
    const memory = createMemoryStore();
    const [quick, slow] = [makeRun({ updatedAt: 1 }), makeRun({ updatedAt: 2 })];
    for (const run of [quick!, slow!]) await memory.create(run, []);
    const drain = new AbortController();
    const order: string[] = [];
    let released: () => void = () => {};
    const quickReleased = new Promise<void>((resolve) => (released = resolve));
    // The second claim (carrying the quick run's release) fails as the drain begins; the slow run is still in flight.
    const rec = recorded(memory, (n) => {
      if (n === 2) drain.abort();
      return n === 2;
    });
    const store: Store = { ...rec.store, release: (runId, owner) => (runId === quick!.id && (order.push('quick released'), released()), rec.store.release(runId, owner)) };
    const host = finishingHost(store);
    const drive = host.drive;
    host.drive = async (record, context) => {
      if (record.id === slow!.id) {
        // Finishes once the quick run is released, or 200 turns of the event loop (no wall clock) after the drain began.
        const turns = new Promise<void>((done) => {
          let n = 0;
          const turn = () => (++n >= 200 ? done() : setImmediate(turn));
          drain.signal.addEventListener('abort', turn, { once: true });
        });
        await Promise.race([quickReleased, turns]);
        order.push('slow finished');
      }
      return drive(record, context);
    };
    // A poll of an hour: the drain must not wait for it either.
    await work(host, { owner: 'w-1', concurrency: 2, pollMs: 3_600_000, signal: drain.signal, onError: () => {} });
    expect(order).toEqual(['quick released', 'slow finished']);
    for (const run of [quick!, slow!]) expect((await memory.get(run.id))?.lease).toBeNull();
  });
});

describe('a worker reads its runs\' cancel requests with the claim', () => {
  it('cancels a run whose request was recorded before the claim, without reading the request again', async () => {
    const memory = createMemoryStore();
    const tool = defineTool({ name: 'echo', description: 'Echo.', input: z.object({ x: z.string() }), run: async ({ x }) => x }) as unknown as AnyTool;
    const definition = loadDefinitionFromObject(
      { id: 'echoes', steps: { a: { tool: 'echo', with: { x: 'a' } }, b: { tool: 'echo', with: { x: 'b' } }, done: { final: true, output: '{% $steps.b.output %}' } } },
      [tool],
      'worker-claim.test',
    );
    const rec = recorded(memory);
    const engine = createEngine({ store: rec.store, tools: [tool], clock: new ManualClock({ autoAdvance: true }), model: { apiKey: 'unused' } });
    const doomed = await engine.start(definition, { input: {}, detach: true });
    const spared = await engine.start(definition, { input: {}, detach: true });
    // Recorded by another process: this engine learns of it only from the store.
    await memory.updateShared(`cancel:${doomed.runId}`, () => ({ reason: 'operator', at: 1 }));
    await engine.work({ exitWhenIdle: true, pollMs: 1 });
    expect((await engine.get(doomed.runId)).status).toBe('cancelled');
    expect((await engine.get(spared.runId)).status).toBe('done');
    expect(rec.reads.filter((key) => key.startsWith('cancel:'))).toEqual([]);
    expect((await memory.get(doomed.runId))?.lease).toBeNull();
  });
});
