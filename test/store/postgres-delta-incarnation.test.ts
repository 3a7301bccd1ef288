/**
 * The PostgreSQL store sends a commit's snapshot as edits of the text it wrote last for the run, at the revision the
 * commit expects. A run id can be used again once the run is pruned (`StartOptions.runId`), so another store may
 * make a new run under the id and bring it to that very revision with other text: the edits must not be applied to
 * it (they would copy the wrong parts of the stored text into a valid but wrong snapshot).
 */
import { expect, it } from 'vitest';
import { makeRun, patch } from '../../src/testing/store-fixtures.js';
import { testSchemas } from '../pg.js';
import { withTwoStores } from './two-stores.js';

const schemas = testSchemas('delta');

/** A step result of a fixed length whose text names `tag` (one letter). */
const result = (tag: string) => ({ status: 'done', output: { rows: Array.from({ length: 20 }, (_, i) => `${tag}-${i}-${'w'.repeat(20)}`) } });
const snapshot = (steps: Record<string, unknown>) => ({ status: 'active', value: 'c', context: { steps, visits: { c: 1 } } });

it('a commit after the run was pruned and made again under its id by another store writes the snapshot it was given', async () => {
  await withTwoStores(schemas, async (first, other) => {
    await first.create(makeRun({ id: 'job-1' }), []);
    await first.commit('job-1', patch({ status: 'done', snapshot: snapshot({ a: result('P'), b: result('Q') }) }), [], 0);

    // Another process prunes the finished run and starts a new one under the same id, to the same revision.
    expect(await other.prune({ olderThan: Date.now() + 60_000, statuses: ['done'] })).toBe(1);
    await other.create(makeRun({ id: 'job-1' }), []);
    await other.commit('job-1', patch({ snapshot: snapshot({ a: result('Q'), b: result('P') }) }), [], 0);

    // The first store drives the new run on: it reads it, and commits its next step.
    const read = await first.get('job-1');
    expect(read?.revision).toBe(1);
    const next = snapshot({ a: result('Q'), b: result('P'), c: result('R') });
    await first.commit('job-1', patch({ snapshot: next }), [], 1);
    expect((await other.get('job-1'))?.snapshot).toEqual(next);
  });
});

it('so does a group commit: each run made again goes whole, the others with their edits', async () => {
  await withTwoStores(schemas, async (first, other) => {
    const ids = ['job-1', 'job-2', 'job-3'];
    for (const id of ids) await first.create(makeRun({ id }), []);
    for (const id of ids) await first.commit(id, patch({ status: id === 'job-3' ? 'running' : 'done', snapshot: snapshot({ a: result('P'), b: result('Q') }) }), [], 0);
    expect(await other.prune({ olderThan: Date.now() + 60_000, statuses: ['done'] })).toBe(2);
    for (const id of ['job-1', 'job-2']) {
      await other.create(makeRun({ id }), []);
      await other.commit(id, patch({ snapshot: snapshot({ a: result('Q'), b: result('P') }) }), [], 0);
    }
    const next = snapshot({ a: result('Q'), b: result('P'), c: result('R') });
    const own = snapshot({ a: result('P'), b: result('Q'), c: result('R') });
    // With one connection the first commit goes alone and the other two together.
    await Promise.all([
      first.commit('job-1', patch({ snapshot: next }), [], 1),
      first.commit('job-2', patch({ snapshot: next }), [], 1),
      first.commit('job-3', patch({ snapshot: own }), [], 1),
    ]);
    expect((await other.get('job-1'))?.snapshot).toEqual(next);
    expect((await other.get('job-2'))?.snapshot).toEqual(next);
    expect((await other.get('job-3'))?.snapshot).toEqual(own);
  });
});
