/**
 * The SQLite store's commit that ends a run lets go of its owner's lease in the same write, and remembers that the
 * owner's release then has nothing to write. A worker's release of such a run rides on its next claim instead
 * (ClaimOptions.release): that claim, or a claim that leases the run anew, must settle what was remembered, or a
 * later release of the same id by the same owner is skipped and leaves the run leased.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { makeRun, patch } from '../../src/testing/store-fixtures.js';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stepwise-let-go-'));
  store = createSqliteStore({ path: join(dir, 'runs.db') });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

it('a run a worker finished, released by its claim, pruned and made again under its id, is released by that worker', async () => {
  await store.create(makeRun({ id: 'job-1' }), []);
  const [first] = await store.claim({ owner: 'w1', now: 1_000, leaseMs: 30_000, limit: 1 });
  expect(first?.id).toBe('job-1');
  const done = await store.commit('job-1', patch({ status: 'done' }), [], first!.revision, 'w1');
  expect(done.lease).toBeNull();
  // The worker's deferred release rides on its next claim.
  await store.claim({ owner: 'w1', now: 2_000, leaseMs: 30_000, limit: 1, release: ['job-1'] });
  expect(await store.prune({ olderThan: Date.now() + 60_000, statuses: ['done'] })).toBe(1);

  await store.create(makeRun({ id: 'job-1' }), []);
  const [again] = await store.claim({ owner: 'w1', now: 3_000, leaseMs: 30_000, limit: 1 });
  expect(again?.id).toBe('job-1');
  await store.release('job-1', 'w1'); // a draining worker lets go of the run it drives
  expect((await store.get('job-1'))?.lease).toBeNull();
  // Another worker can take it at once.
  expect((await store.claim({ owner: 'w2', now: 4_000, leaseMs: 30_000, limit: 1 })).map((r) => r.id)).toEqual(['job-1']);
});
