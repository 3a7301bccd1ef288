/**
 * The memory store answers `list({ parentId })` from an index of each parent's children: a run re-parented by a
 * commit moves in it, a pruned one leaves it, and the answer is the same as filtering every run.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/store/memory.js';
import { makeRun } from '../../src/testing/store-fixtures.js';
import { zeroUsage } from '../../src/run/types.js';

const link = (runId: string, index: number) => ({ runId, step: 'each', visit: 1, index, round: 0, attempt: 1 });
const child = (id: string, parent: string, index: number, at: number) => makeRun({ id, options: { parent: link(parent, index) }, createdAt: at, updatedAt: at, status: 'done' });
const ids = (runs: readonly { id: string }[]) => runs.map((r) => r.id);

describe('memory store children of a run', () => {
  it('lists the children of a parent, newest first, and of no other', async () => {
    const store = createMemoryStore();
    await store.create(makeRun({ id: 'p1' }), []);
    await store.create(makeRun({ id: 'p2' }), []);
    await store.create(child('a', 'p1', 0, 1), []);
    await store.create(child('b', 'p2', 0, 2), []);
    await store.create(child('c', 'p1', 1, 3), []);
    expect(ids(await store.list({ parentId: 'p1' }))).toEqual(['c', 'a']);
    expect(ids(await store.list({ parentId: 'p2' }))).toEqual(['b']);
    expect(await store.list({ parentId: 'nobody' })).toEqual([]);
    expect(ids(await store.list({ parentId: null })).sort()).toEqual(['p1', 'p2']);
    expect(ids(await store.list({ parentId: 'p1', status: ['running'] }))).toEqual([]);
  });

  it('follows a commit that changes the parent, and a prune', async () => {
    const store = createMemoryStore();
    await store.create(makeRun({ id: 'p1' }), []);
    await store.create(makeRun({ id: 'p2' }), []);
    const { run } = await store.create(child('a', 'p1', 0, 1), []);
    await store.create(child('b', 'p1', 1, 2), []);
    await store.commit('a', { status: 'done', snapshot: null, failure: null, usage: zeroUsage, wakeAt: null, options: { parent: link('p2', 0) } }, [], run.revision);
    expect(ids(await store.list({ parentId: 'p1' }))).toEqual(['b']);
    expect(ids(await store.list({ parentId: 'p2' }))).toEqual(['a']);
    await store.commit('a', { status: 'done', snapshot: null, failure: null, usage: zeroUsage, wakeAt: null, options: {} }, [], run.revision + 1);
    expect(await store.list({ parentId: 'p2' })).toEqual([]);
    expect(ids(await store.list({ parentId: null })).sort()).toEqual(['a', 'p1', 'p2']);
    expect(await store.prune({ olderThan: 10, statuses: ['done'] })).toBe(1);
    expect(await store.list({ parentId: 'p1' })).toEqual([]);
  });
});
