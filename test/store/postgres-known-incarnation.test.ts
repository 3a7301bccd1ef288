/**
 * The PostgreSQL store's commit to a run it knows (./src/store/known-runs.ts) does not get the run's fixed columns
 * back (definition, input, workflow, version, created_at) and fills them in from what it remembers. A run id can be
 * used again once the run is pruned (`StartOptions.runId`; a child run's id is made from its parent's): the store
 * must not hand back the fixed columns of the run that had the id before.
 */
import { expect, it } from 'vitest';
import { makeRun, patch } from '../../src/testing/store-fixtures.js';
import { testSchemas } from '../pg.js';
import { withTwoStores } from './two-stores.js';

const schemas = testSchemas('known');

it('a commit to a run pruned and made again under its id by another store returns the new run', async () => {
  await withTwoStores(schemas, async (first, other) => {
    await first.create(makeRun({ id: 'job-1', input: { document: 'the first' }, workflow: 'wf', version: 'v1' }), []);
    await first.commit('job-1', patch({ status: 'done' }), [], 0);
    expect(await other.prune({ olderThan: Date.now() + 60_000, statuses: ['done'] })).toBe(1);
    await other.create(makeRun({ id: 'job-1', input: { document: 'the second' }, workflow: 'wf', version: 'v2', createdAt: 2_000 }), []);

    // The first store finds the new run by a list (as a parent lists its children) and commits to it.
    const [listed] = await first.list({ idPrefix: 'job-1' });
    expect(listed?.input).toEqual({ document: 'the second' });
    const committed = await first.commit('job-1', patch(), [], listed!.revision);
    expect(committed).toEqual(await other.get('job-1'));
    expect(committed).toMatchObject({ input: { document: 'the second' }, version: 'v2', createdAt: 2_000 });
  });
});

it('the server sends the fixed columns back whole when the row is not the run the store knows (another created_at), alone or grouped', async () => {
  await withTwoStores(schemas, async (first, other) => {
    const ids = ['job-1', 'job-2', 'job-3'];
    for (const id of ids) await first.create(makeRun({ id, input: { document: 'the first' } }), []);
    for (const id of ids) await first.commit(id, patch({ status: 'done' }), [], 0);
    expect(await other.prune({ olderThan: Date.now() + 60_000, statuses: ['done'] })).toBe(3);
    for (const id of ids) {
      await other.create(makeRun({ id, input: { document: 'the second' }, createdAt: 2_000 }), []);
      await other.commit(id, patch(), [], 0);
    }
    // Commits at the revision the first store last saw, with no read in between: one alone, two grouped.
    const committed = await Promise.all(ids.map((id) => first.commit(id, patch({ status: 'done' }), [], 1)));
    for (const run of committed) {
      expect(run).toEqual(await other.get(run.id));
      expect(run).toMatchObject({ input: { document: 'the second' }, createdAt: 2_000 });
    }
  });
});
