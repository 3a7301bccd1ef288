/**
 * The store conformance suite: every backend passes the same tests, and so
 * can a user's own. A backend's test file calls `storeSpec(test, name, init)`,
 * where `test` brings the test runner's functions (vitest's, or any with the
 * same `describe`/`it`/`expect`), and `init` gives a fresh, empty,
 * migrated-or-not store and a `destroy` that removes it.
 *
 * It imports no test runner itself, so `stepwise-engine/testing` loads without one.
 */
import { RunNotFoundError } from '../errors.js';
import type { RunRecord } from '../run/types.js';
import { prefetchShared } from '../store/prefetched.js';
import { ConflictError, LeaseLostError, type Store } from '../store/types.js';
import { entry, makeRun, patch } from './store-fixtures.js';

export interface StoreFixture {
  store: Store;
  destroy(): Promise<void>;
}

/** The assertions the suite uses: a subset of vitest's (and Jest's) `expect`. */
export interface StoreSpecAssertion {
  toEqual(expected: unknown): void;
  toBe(expected: unknown): void;
  toBeNull(): void;
  toBeInstanceOf(expected: unknown): void;
  toMatchObject(expected: object): void;
  toHaveLength(length: number): void;
  toBeUndefined(): void;
  toBeDefined(): void;
  toBeTruthy(): void;
  toBeFalsy(): void;
  toContain(item: unknown): void;
  toBeGreaterThan(n: number): void;
  toBeGreaterThanOrEqual(n: number): void;
  toBeLessThan(n: number): void;
  toBeLessThanOrEqual(n: number): void;
  toThrow(expected?: string | RegExp): void;
  readonly not: StoreSpecAssertion;
  readonly rejects: {
    toBeInstanceOf(expected: unknown): Promise<void>;
    toThrow(expected?: string | RegExp): Promise<void>;
    toMatchObject(expected: object): Promise<void>;
  };
}

/** The test runner functions the suite registers its tests with: `import * as vitest from 'vitest'` fits. */
export interface StoreSpecTest {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>): void;
  beforeEach(body: () => Promise<void>): void;
  afterEach(body: () => Promise<void>): void;
  expect(actual: unknown, message?: string): StoreSpecAssertion;
}

/**
 * Registers the store conformance suite for one backend.
 *
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { storeSpec } from 'stepwise-engine/testing';
 * import { createMyStore } from '../src/my-store.js';
 *
 * storeSpec(vitest, 'my-store', async () => {
 *   const store = createMyStore({ url: process.env.MY_STORE_URL! });
 *   return { store, destroy: () => store.close() };
 * });
 * ```
 */
export function storeSpec(test: StoreSpecTest, name: string, init: () => Promise<StoreFixture>): void {
  const { describe, it, expect, beforeEach, afterEach } = test;
  describe(`Store conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await init();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.destroy();
    });

    it('migrates twice without harm and keeps data', async () => {
      await store.migrate();
      const run = makeRun();
      await store.create(run, []);
      await store.migrate();
      expect(await store.get(run.id)).toEqual(run);
    });

    it('creates a run with its journal and reads it back', async () => {
      const run = makeRun();
      const result = await store.create(run, [entry({ event: 'created', step: null }), entry()]);
      expect(result).toEqual({ run, created: true });
      expect(await store.get(run.id)).toEqual(run);
      const journal = await store.journal(run.id);
      expect(journal.map((e) => [e.runId, e.seq, e.event, e.step])).toEqual([
        [run.id, 1, 'created', null],
        [run.id, 2, 'started', 'a'],
      ]);
    });

    it('create is idempotent by id: returns the stored run and writes nothing', async () => {
      const run = makeRun();
      await store.create(run, [entry()]);
      const again = await store.create({ ...run, status: 'failed', input: { other: true } }, [entry(), entry()]);
      expect(again).toEqual({ run, created: false });
      expect(await store.journal(run.id)).toHaveLength(1);
    });

    it('get and journal of a missing run give null and []', async () => {
      expect(await store.get('nope')).toBeNull();
      expect(await store.journal('nope')).toEqual([]);
    });

    it('commit applies the patch, bumps the revision, stamps updatedAt and appends the journal', async () => {
      const run = makeRun();
      await store.create(run, [entry()]);
      const before = Date.now();
      const usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15, usd: 0.01 };
      const committed = await store.commit(
        run.id,
        patch({ status: 'waiting', snapshot: { value: 'w', context: { n: 1 } }, usage, wakeAt: 5_000, output: { ok: 1 }, options: { seed: 2 } }),
        [entry({ event: 'completed', output: { vendor: 'x' }, usage, latencyMs: 12 }), entry({ event: 'waiting', step: 'w' })],
        0,
      );
      expect(committed).toMatchObject({
        status: 'waiting', snapshot: { value: 'w', context: { n: 1 } }, usage, wakeAt: 5_000, output: { ok: 1 },
        options: { seed: 2 }, revision: 1, createdAt: run.createdAt, input: run.input, definition: run.definition,
      });
      expect(committed.updatedAt).toBeGreaterThanOrEqual(before);
      expect(committed.updatedAt).toBeLessThanOrEqual(Date.now());
      expect(await store.get(run.id)).toEqual(committed);
      const journal = await store.journal(run.id);
      expect(journal.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(journal[1]).toEqual({
        runId: run.id, seq: 2, step: 'a', visit: 1, attempt: 1, event: 'completed', at: 1_000,
        output: { vendor: 'x' }, usage, latencyMs: 12,
      });
    });

    it('commit keeps output and options when the patch leaves them out', async () => {
      const run = makeRun({ output: { kept: true }, options: { seed: 7, faults: 'flaky' } });
      await store.create(run, []);
      const committed = await store.commit(run.id, patch(), []);
      expect(committed.output).toEqual({ kept: true });
      expect(committed.options).toEqual({ seed: 7, faults: 'flaky' });
      const cleared = await store.commit(run.id, patch({ output: null, failure: { kind: 'loop', step: 'a', message: 'again' } }), []);
      expect(cleared.output).toBeNull();
      expect(cleared.failure).toEqual({ kind: 'loop', step: 'a', message: 'again' });
    });

    it('commit with a stale expectRevision throws ConflictError and changes nothing', async () => {
      const run = makeRun();
      await store.create(run, [entry()]);
      await store.commit(run.id, patch(), [entry()], 0);
      await expect(store.commit(run.id, patch({ status: 'done' }), [entry(), entry()], 0)).rejects.toBeInstanceOf(ConflictError);
      expect((await store.get(run.id))?.status).toBe('running');
      expect((await store.get(run.id))?.revision).toBe(1);
      expect(await store.journal(run.id)).toHaveLength(2);
    });

    it('commit on a missing run throws RunNotFoundError', async () => {
      await expect(store.commit('missing', patch(), [entry()])).rejects.toBeInstanceOf(RunNotFoundError);
      await expect(store.commit('missing', patch(), [], 0)).rejects.toBeInstanceOf(RunNotFoundError);
      expect(await store.journal('missing')).toEqual([]);
    });

    it('numbers the journal contiguously from 1 across commits', async () => {
      const run = makeRun();
      await store.create(run, []);
      for (let i = 0; i < 5; i++) {
        await store.commit(run.id, patch(), Array.from({ length: i }, () => entry({ attempt: i })));
      }
      const journal = await store.journal(run.id);
      expect(journal.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      expect((await store.get(run.id))?.revision).toBe(5);
    });

    it('lists newest first, filtered by status and workflow, limited', async () => {
      const runs = [
        makeRun({ id: 'r1', createdAt: 1, workflow: 'a', status: 'done' }),
        makeRun({ id: 'r2', createdAt: 3, workflow: 'b', status: 'running' }),
        makeRun({ id: 'r3', createdAt: 2, workflow: 'a', status: 'failed' }),
        makeRun({ id: 'r4', createdAt: 3, workflow: 'a', status: 'running' }),
      ];
      for (const run of runs) await store.create(run, []);
      const ids = (list: RunRecord[]) => list.map((r) => r.id);
      expect(ids(await store.list())).toEqual(['r2', 'r4', 'r3', 'r1']);
      expect(ids(await store.list({ workflow: 'a' }))).toEqual(['r4', 'r3', 'r1']);
      expect(ids(await store.list({ status: ['done', 'failed'] }))).toEqual(['r3', 'r1']);
      expect(ids(await store.list({ status: ['running'], workflow: 'a' }))).toEqual(['r4']);
      expect(ids(await store.list({ limit: 2 }))).toEqual(['r2', 'r4']);
      expect(ids(await store.list({ status: [] }))).toEqual([]);
      expect(await store.list({ workflow: 'none' })).toEqual([]);
    });

    it('lists the runs whose id starts with a prefix, exactly', async () => {
      for (const [i, id] of ['run-a1', 'run-a2', 'run-b1', 'RUN-a3', 'run_a4', 'x%run-a'].entries()) await store.create(makeRun({ id, createdAt: i }), []);
      const ids = async (idPrefix: string) => (await store.list({ idPrefix })).map((r) => r.id).sort();
      expect(await ids('run-a')).toEqual(['run-a1', 'run-a2']);
      expect(await ids('run-')).toEqual(['run-a1', 'run-a2', 'run-b1']);
      expect(await ids('run-b1')).toEqual(['run-b1']);
      expect(await ids('x%')).toEqual(['x%run-a']);
      expect(await ids('run-c')).toEqual([]);
      expect((await store.list({ idPrefix: 'run-', status: ['running'], limit: 1 })).map((r) => r.id)).toEqual(['run-b1']);
    });

    it('claims running runs and due timers, oldest first, and leases them', async () => {
      const now = 10_000;
      const runs = {
        running: makeRun({ updatedAt: 3 }),
        runningOld: makeRun({ updatedAt: 1 }),
        runningNotDue: makeRun({ wakeAt: now + 1, updatedAt: 0 }),
        runningDue: makeRun({ wakeAt: now, updatedAt: 2 }),
        waitingDue: makeRun({ status: 'waiting', wakeAt: now - 5, updatedAt: 4 }),
        waitingNoTimer: makeRun({ status: 'waiting', wakeAt: null }),
        waitingLater: makeRun({ status: 'waiting', wakeAt: now + 100 }),
        done: makeRun({ status: 'done' }),
        failedDue: makeRun({ status: 'failed', wakeAt: now - 1 }),
        leased: makeRun({ lease: { owner: 'other', until: now + 1 } }),
        leaseAtNow: makeRun({ lease: { owner: 'other', until: now } }),
        expired: makeRun({ lease: { owner: 'other', until: now - 1 }, updatedAt: 5 }),
      };
      for (const run of Object.values(runs)) await store.create(run, []);
      const claimed = await store.claim({ owner: 'me', now, leaseMs: 500, limit: 10 });
      expect(claimed.map((r) => r.id)).toEqual(
        [runs.runningOld, runs.runningDue, runs.running, runs.waitingDue, runs.expired].map((r) => r.id),
      );
      for (const run of claimed) expect(run.lease).toEqual({ owner: 'me', until: now + 500 });
      expect((await store.get(runs.expired.id))?.lease).toEqual({ owner: 'me', until: now + 500 });
      expect((await store.get(runs.leased.id))?.lease).toEqual({ owner: 'other', until: now + 1 });
      expect(await store.claim({ owner: 'again', now, leaseMs: 500, limit: 10 })).toEqual([]);
      // Once the leases run out, another owner takes the runs over.
      const later = await store.claim({ owner: 'next', now: now + 501, leaseMs: 500, limit: 2 });
      expect(later).toHaveLength(2);
      expect(later.every((r) => r.lease?.owner === 'next')).toBe(true);
    });

    it('never hands one run to two concurrent claimers', async () => {
      const now = 50_000;
      for (let i = 0; i < 20; i++) await store.create(makeRun({ updatedAt: i }), []);
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) => store.claim({ owner: `w${i}`, now, leaseMs: 1_000, limit: 6 })),
      );
      const ids = results.flat().map((r) => r.id);
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
      for (const [i, batch] of results.entries()) {
        for (const run of batch) expect((await store.get(run.id))?.lease?.owner).toBe(`w${i}`);
      }
    });

    it('renews and releases only for the owner; commit keeps the lease', async () => {
      const run = makeRun();
      await store.create(run, []);
      await store.claim({ owner: 'me', now: 1_000, leaseMs: 100, limit: 1 });
      expect(await store.renew(run.id, 'other', 9_999)).toBe(false);
      expect(await store.renew(run.id, 'me', 2_000)).toBe(true);
      expect((await store.get(run.id))?.lease).toEqual({ owner: 'me', until: 2_000 });
      expect((await store.commit(run.id, patch(), [])).lease).toEqual({ owner: 'me', until: 2_000 });
      await store.release(run.id, 'other');
      expect((await store.get(run.id))?.lease).toEqual({ owner: 'me', until: 2_000 });
      await store.release(run.id, 'me');
      expect((await store.get(run.id))?.lease).toBeNull();
      expect(await store.renew(run.id, 'me', 3_000)).toBe(false);
      expect(await store.renew('missing', 'me', 3_000)).toBe(false);
      await store.release('missing', 'me');
    });

    it('lists children by parent, top-level runs alone, and never claims a child run (its parent drives it)', async () => {
      const now = 30_000;
      const parent = makeRun({ updatedAt: 1 });
      const child = makeRun({ updatedAt: 0, options: { seed: 1, parent: { runId: parent.id, step: 'sub', visit: 1 } } });
      const item = makeRun({ updatedAt: 0, options: { parent: { runId: parent.id, step: 'each', visit: 1, index: 3, attempt: 1, round: 0 } } });
      for (const run of [parent, child, item]) await store.create(run, []);
      expect((await store.get(item.id))?.options.parent).toEqual({ runId: parent.id, step: 'each', visit: 1, index: 3, attempt: 1, round: 0 });
      expect((await store.list({ parentId: parent.id })).map((r) => r.id).sort()).toEqual([child.id, item.id].sort());
      expect((await store.list({ parentId: null })).map((r) => r.id)).toEqual([parent.id]);
      expect(await store.list({ parentId: child.id })).toEqual([]);
      expect(await store.list({})).toHaveLength(3);
      expect((await store.claim({ owner: 'me', now, leaseMs: 500, limit: 10 })).map((r) => r.id)).toEqual([parent.id]);
    });

    it('claim leaves out the runs in exclude (a worker never claims a run it already drives)', async () => {
      const now = 20_000;
      const mine = makeRun({ updatedAt: 1, lease: { owner: 'me', until: now - 1 } });
      const other = makeRun({ updatedAt: 2 });
      for (const run of [mine, other]) await store.create(run, []);
      const claimed = await store.claim({ owner: 'me', now, leaseMs: 500, limit: 5, exclude: [mine.id] });
      expect(claimed.map((r) => r.id)).toEqual([other.id]);
      expect((await store.get(mine.id))?.lease).toEqual({ owner: 'me', until: now - 1 });
      expect((await store.claim({ owner: 'me', now, leaseMs: 500, limit: 5, exclude: [] })).map((r) => r.id)).toEqual([mine.id]);
    });

    it('runningLeases gives the id and lease of every top-level running run, and of no other (optional)', async () => {
      if (!store.runningLeases) return;
      const free = makeRun();
      const leased = makeRun({ lease: { owner: 'w', until: 7_000 } });
      const waiting = makeRun({ status: 'waiting' });
      const child = makeRun({ options: { parent: { runId: free.id, step: 'sub', visit: 1 } } });
      for (const run of [free, leased, waiting, child]) await store.create(run, []);
      const found = [...(await store.runningLeases())].sort((a, b) => (a.id < b.id ? -1 : 1));
      expect(found).toEqual([{ id: free.id, lease: null }, { id: leased.id, lease: { owner: 'w', until: 7_000 } }].sort((a, b) => (a.id < b.id ? -1 : 1)));
    });

    it('a claim releases the runs its owner is done with in the same call, never picks them, and leaves others\' leases alone (claimReleases)', async () => {
      if (!store.claimReleases) return; // optional capability: a worker then releases each run itself
      const now = 40_000;
      const done = makeRun({ status: 'done', updatedAt: 1 });
      const resting = makeRun({ updatedAt: 2 }); // released while still runnable: another claim takes it
      const theirs = makeRun({ updatedAt: 3 });
      const fresh = makeRun({ updatedAt: 4 });
      for (const run of [done, resting, theirs, fresh]) await store.create(run, []);
      expect(await store.acquire(done.id, 'me', now, 500)).toBe(true);
      expect(await store.acquire(resting.id, 'me', now, 500)).toBe(true);
      expect(await store.acquire(theirs.id, 'other', now, 500)).toBe(true);
      const claimed = await store.claim({ owner: 'me', now, leaseMs: 500, limit: 5, release: [done.id, resting.id, theirs.id, 'missing'] });
      expect(claimed.map((r) => r.id)).toEqual([fresh.id]);
      expect((await store.get(done.id))?.lease).toBeNull();
      expect((await store.get(resting.id))?.lease).toBeNull();
      expect((await store.get(theirs.id))?.lease).toEqual({ owner: 'other', until: now + 500 });
      expect((await store.claim({ owner: 'next', now, leaseMs: 500, limit: 5 })).map((r) => r.id)).toEqual([resting.id]);
      // With nothing to pick (limit 0), the releases still happen.
      await store.claim({ owner: 'next', now, leaseMs: 500, limit: 0, release: [resting.id] });
      expect((await store.get(resting.id))?.lease).toBeNull();
    });

    it('a claim prefetches the shared value at prefix + id of each run it claims, and only of those (claimReleases)', async () => {
      if (!store.claimReleases) return;
      const now = 60_000;
      const [a, b, c] = [makeRun({ updatedAt: 1 }), makeRun({ updatedAt: 2 }), makeRun({ updatedAt: 3 })];
      for (const run of [a, b, c]) await store.create(run, []);
      await store.updateShared(`cancel:${a.id}`, () => ({ reason: 'stop', at: 5 }));
      await store.updateShared(`cancel:${b.id}`, () => null);
      await store.updateShared(`cancel:${c.id}`, () => ({ reason: 'not claimed', at: 6 }));
      await store.updateShared(`other:${b.id}`, () => ({ reason: 'another prefix', at: 7 }));
      const cancels = prefetchShared('cancel:');
      const claimed = await store.claim({ owner: 'me', now, leaseMs: 500, limit: 2, prefetchShared: cancels });
      expect(claimed.map((r) => r.id)).toEqual([a.id, b.id]);
      expect(cancels.get(a.id)).toEqual({ reason: 'stop', at: 5 });
      expect(cancels.get(b.id)).toBeNull();
      expect(cancels.get(c.id)).toBeUndefined(); // not claimed: not known
      // The next claim replaces what the last one brought.
      expect((await store.claim({ owner: 'me', now, leaseMs: 500, limit: 2, prefetchShared: cancels })).map((r) => r.id)).toEqual([c.id]);
      expect(cancels.get(c.id)).toEqual({ reason: 'not claimed', at: 6 });
      expect(cancels.get(a.id)).toBeUndefined();
    });

    it('commit with an owner applies only while the run is leased to that owner, else throws LeaseLostError and changes nothing', async () => {
      const run = makeRun();
      await store.create(run, [entry()]);
      await store.claim({ owner: 'me', now: 1_000, leaseMs: 100, limit: 1 });
      const first = await store.commit(run.id, patch(), [entry()], 0, 'me');
      expect(first.revision).toBe(1);
      // An expired lease nobody took over is still the owner's: the commit goes through.
      expect((await store.commit(run.id, patch(), [], 1, 'me')).revision).toBe(2);
      expect(await store.acquire(run.id, 'other', 5_000, 100)).toBe(true);
      const lost = await store.commit(run.id, patch({ status: 'done' }), [entry(), entry()], 2, 'me').catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(LeaseLostError);
      expect((lost as LeaseLostError).code).toBe('lease_lost');
      expect(await store.get(run.id)).toMatchObject({ status: 'running', revision: 2, lease: { owner: 'other', until: 5_100 } });
      expect(await store.journal(run.id)).toHaveLength(2);
      await store.release(run.id, 'other');
      await expect(store.commit(run.id, patch(), [], 2, 'me')).rejects.toBeInstanceOf(LeaseLostError);
      // Without an owner the lease is not looked at.
      expect((await store.commit(run.id, patch(), [], 2)).revision).toBe(3);
      await expect(store.commit('missing', patch(), [], undefined, 'me')).rejects.toBeInstanceOf(RunNotFoundError);
    });

    it('acquire takes a free, expired, own or dead holder\'s lease, atomically', async () => {
      const run = makeRun();
      await store.create(run, []);
      expect(await store.acquire(run.id, 'a', 1_000, 100)).toBe(true);
      expect((await store.get(run.id))?.lease).toEqual({ owner: 'a', until: 1_100 });
      expect(await store.acquire(run.id, 'b', 1_050, 100)).toBe(false);
      expect(await store.acquire(run.id, 'b', 1_100, 100)).toBe(false);
      expect(await store.acquire(run.id, 'a', 1_050, 100)).toBe(true);
      expect((await store.get(run.id))?.lease).toEqual({ owner: 'a', until: 1_150 });
      expect(await store.acquire(run.id, 'c', 1_060, 100, 'not-a')).toBe(false);
      expect(await store.acquire(run.id, 'c', 1_060, 100, 'a')).toBe(true);
      expect(await store.acquire(run.id, 'b', 1_161, 100)).toBe(true);
      expect((await store.get(run.id))?.lease).toEqual({ owner: 'b', until: 1_261 });
      // A leased run is not claimed, and a claimed run cannot be acquired by another owner.
      expect(await store.claim({ owner: 'w', now: 1_200, leaseMs: 100, limit: 5 })).toEqual([]);
      await store.release(run.id, 'b');
      expect((await store.claim({ owner: 'w', now: 1_200, leaseMs: 100, limit: 5 })).map((r) => r.id)).toEqual([run.id]);
      expect(await store.acquire(run.id, 'b', 1_250, 100)).toBe(false);
      expect(await store.acquire('missing', 'b', 1_250, 100)).toBe(false);
      const contenders = await Promise.all(Array.from({ length: 8 }, (_, i) => store.acquire(run.id, `x${i}`, 5_000, 100)));
      expect(contenders.filter(Boolean)).toHaveLength(1);
    });

    it('prunes old runs in the given statuses with their journals', async () => {
      const old = makeRun({ status: 'done', updatedAt: 100 });
      const oldFailed = makeRun({ status: 'failed', updatedAt: 100 });
      const oldRunning = makeRun({ status: 'running', updatedAt: 100 });
      const recent = makeRun({ status: 'done', updatedAt: 900 });
      for (const run of [old, oldFailed, oldRunning, recent]) await store.create(run, [entry(), entry()]);
      expect(await store.prune({ olderThan: 500, statuses: ['done', 'failed'] })).toBe(2);
      expect(await store.get(old.id)).toBeNull();
      expect(await store.get(oldFailed.id)).toBeNull();
      expect(await store.journal(old.id)).toEqual([]);
      expect(await store.get(oldRunning.id)).not.toBeNull();
      expect(await store.journal(recent.id)).toHaveLength(2);
      expect(await store.prune({ olderThan: 500, statuses: [] })).toBe(0);
      // A pruned id can be created again, with a fresh journal.
      expect((await store.create(old, [entry()])).created).toBe(true);
      expect((await store.journal(old.id)).map((e) => e.seq)).toEqual([1]);
    });

    it('readShared sees what updateShared wrote, and null for a missing key', async () => {
      expect(await store.readShared('missing')).toBeNull();
      await store.updateShared<{ state: string; n: number }>('breaker:y', () => ({ state: 'open', n: 2 }));
      expect(await store.readShared('breaker:y')).toEqual({ state: 'open', n: 2 });
    });

    it('readSharedPrefix returns every value whose key starts with the prefix, in one read (the built-in stores have it)', async () => {
      const read = store.readSharedPrefix?.bind(store);
      if (read === undefined) return expect(['memory', 'sqlite', 'postgres']).not.toContain(store.kind);
      expect(await read('breaker:')).toEqual([]);
      await store.updateShared('breaker:a', () => ({ state: 'open' }));
      await store.updateShared('breaker:b_%', () => ({ state: 'closed' }));
      await store.updateShared('breaker:gone', () => null);
      await store.updateShared('breakers', () => 1);
      await store.updateShared('cancel:r', () => ({ reason: 'x' }));
      const found = await read<{ state: string }>('breaker:');
      expect([...found].sort(([a], [b]) => a.localeCompare(b))).toEqual([
        ['breaker:a', { state: 'open' }],
        ['breaker:b_%', { state: 'closed' }],
      ]);
      // The prefix is text, not a pattern.
      expect(await read('breaker:b_')).toEqual([['breaker:b_%', { state: 'closed' }]]);
      expect(await read('breaker:_')).toEqual([]);
    });

    it('updateShared starts from null and stays atomic under 50 concurrent updates', async () => {
      expect(await store.updateShared<number>('n', (n) => (n === null ? 100 : -1))).toBe(100);
      await Promise.all(Array.from({ length: 50 }, () => store.updateShared<number>('count', (n) => (n ?? 0) + 1)));
      expect(await store.updateShared<number>('count', (n) => n ?? -1)).toBe(50);
      const breaker = await store.updateShared<{ state: string; failures: number[] }>('breaker:x', (b) => b ?? { state: 'closed', failures: [] });
      expect(breaker).toEqual({ state: 'closed', failures: [] });
    });

    it('updateShared leaves the value alone when the update throws', async () => {
      await store.updateShared('k', () => 1);
      await expect(store.updateShared('k', () => { throw new Error('boom'); })).rejects.toThrow('boom');
      expect(await store.updateShared('k', (v) => v)).toBe(1);
    });

    it('round-trips JSON faithfully and keeps stored values apart from callers', async () => {
      const input = { text: 'naïve café — 日本語 🚀', nested: { list: [1, 2.5, -3, { deep: [null, true, false] }], empty: {} }, quote: '"\\\n' };
      // The snapshot and the entry get copies of their own: a caller never edits what it committed (a store may keep
      // a snapshot or an entry as given, as the memory store does), while the run's input is the caller's to change.
      const run = makeRun({ input, output: null, snapshot: { status: 'active', context: { steps: { a: { output: structuredClone(input) } } } } });
      await store.create(run, [entry({ input: structuredClone(input), data: { nested: { x: [1] } }, error: { kind: 'tool_failed', message: 'ü' } })]);
      const got = await store.get(run.id);
      expect(got).toEqual(run);
      expect(got?.output).toBeNull();
      const [first] = await store.journal(run.id);
      expect(first?.input).toEqual(input);
      expect(first?.data).toEqual({ nested: { x: [1] } });
      expect(first?.error).toEqual({ kind: 'tool_failed', message: 'ü' });
      expect(first && 'output' in first).toBe(false);
      (got!.input as { text: string }).text = 'mutated';
      ((got!.snapshot as { context: { steps: { a: { output: { text: string } } } } }).context.steps.a.output).text = 'mutated';
      (first!.data as { nested: { x: number[] } }).nested.x.push(2);
      input.text = 'mutated too';
      const again = await store.get(run.id);
      expect((again?.input as { text: string }).text).toBe('naïve café — 日本語 🚀');
      expect(again?.snapshot).toEqual(run.snapshot);
      expect((await store.journal(run.id))[0]?.data).toEqual({ nested: { x: [1] } });
      const committed = await store.commit(run.id, patch({ output: 'a string output' }), []);
      expect(committed.output).toBe('a string output');
    });

    it('keeps the key order of JSON objects as written (output, usage, input, journal)', async () => {
      const keys = (value: unknown) => Object.keys(value as object);
      const output = { zeta: 1, alpha: { longer_key: 2, b: 3, a: 4 }, mid: [{ y: 1, x: 2 }] };
      const usage = { inputTokens: 5, outputTokens: 7, totalTokens: 12, usd: 0.25 };
      const input = { z: 'last letter', aa: 'longer', b: 'short' };
      const run = makeRun({ input, output: null });
      await store.create(run, [entry({ input, data: { zz: 1, a: 2 } })]);
      const committed = await store.commit(run.id, patch({ output, usage }), [entry({ output })]);
      for (const got of [committed, await store.get(run.id)]) {
        expect(JSON.stringify(got?.output)).toBe(JSON.stringify(output));
        expect(keys(got?.usage)).toEqual(keys(usage));
        expect(keys(got?.input)).toEqual(['z', 'aa', 'b']);
      }
      const [first, second] = await store.journal(run.id);
      expect(keys(first?.input)).toEqual(['z', 'aa', 'b']);
      expect(keys(first?.data)).toEqual(['zz', 'a']);
      expect(JSON.stringify(second?.output)).toBe(JSON.stringify(output));
    });

    it('close is idempotent', async () => {
      await store.close();
      await store.close();
    });
  });
}
