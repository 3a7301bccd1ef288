/**
 * A caller's run id, taken by concurrent requests: the answer comes from what the store's create did, so exactly one
 * request is 201, the others 200 (a run of the same workflow) or 409 `run_exists` (of another). On SQLite and PostgreSQL.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_URL, testSchemas } from '../pg.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { root, startApi, type Api } from './helpers.js';

const schemas = testSchemas('runids');
const inputOf = (workflow: string): unknown => JSON.parse(readFileSync(join(root, 'definitions', `${workflow}.input.json`), 'utf8'));

const backends: ReadonlyArray<readonly [string, (dir: string) => Store]> = [
  ['sqlite', (dir) => createSqliteStore({ path: join(dir, 'runs.db') })],
  ['postgres', () => createPostgresStore({ url: PG_URL, schema: schemas.name() })],
];

const N = 8;

describe.each(backends)('POST /api/runs with a taken id (%s)', (_name, makeStore) => {
  let api: Api;
  beforeAll(async () => {
    api = await startApi({}, (e) => e, makeStore);
  });
  afterAll(async () => {
    await api?.close();
  });

  const start = (workflow: string, id: string) => api.call('POST', '/api/runs', { workflow, input: inputOf(workflow), id });
  const statuses = (answers: ReadonlyArray<{ status: number }>) => answers.map((a) => a.status).sort();

  it(`${N} concurrent starts of one workflow with one id: exactly one 201, the others 200 with the same run`, async () => {
    const answers = await Promise.all(Array.from({ length: N }, () => start('invoice-approval', 'same-flow')));
    expect(statuses(answers)).toEqual([...Array<number>(N - 1).fill(200), 201].sort());
    const created = answers.find((a) => a.status === 201)!;
    for (const a of answers) expect(a.json).toMatchObject({ runId: 'same-flow', workflow: 'invoice-approval', createdAt: created.json.createdAt });
    expect((await api.call('GET', '/api/runs/same-flow')).json.journal.filter((e: { event: string }) => e.event === 'created')).toHaveLength(1);
  });

  it('concurrent starts of two workflows with one id: one 201; the same workflow 200, the other 409 run_exists naming `id`', async () => {
    const workflows = Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 'invoice-approval' : 'expense-review'));
    const answers = await Promise.all(workflows.map((w) => start(w, 'two-flows')));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    const stored = answers.find((a) => a.status === 201)!.json.workflow as string;
    answers.forEach((a, i) => {
      if (a.status === 201) return;
      if (workflows[i] === stored) {
        expect(a.status).toBe(200);
        expect(a.json).toMatchObject({ runId: 'two-flows', workflow: stored });
      } else {
        expect(a.status).toBe(409);
        expect(a.json.error).toMatchObject({ code: 'run_exists', field: 'id' });
        expect(a.json.error.message).toMatch(/^id: the run "two-flows" exists and is a run of /);
      }
    });
    expect((await api.call('GET', '/api/runs/two-flows')).json.workflow).toBe(stored);
  });

  it('concurrent reruns to one new id: exactly one 201, the others 409 run_exists; the run that has the id is not driven by them', async () => {
    const original = await start('invoice-approval', 'rerun-source');
    expect(original.status).toBe(201);
    const answers = await Promise.all(Array.from({ length: N }, () => api.call('POST', '/api/runs/rerun-source/rerun', { from: 'validate', id: 'rerun-target' })));
    expect(statuses(answers)).toEqual([201, ...Array<number>(N - 1).fill(409)]);
    for (const a of answers.filter((x) => x.status === 409)) expect(a.json.error).toMatchObject({ code: 'run_exists', field: 'id' });
    const target = (await api.call('GET', '/api/runs/rerun-target')).json;
    expect(target.journal.filter((e: { event: string }) => e.event === 'created')).toHaveLength(1);

    // Sequentially too: a rerun to an id a run of another workflow has is refused and that run is left as it was.
    const other = await start('expense-review', 'rerun-taken');
    const before = (await api.call('GET', '/api/runs/rerun-taken')).json;
    const refused = await api.call('POST', '/api/runs/rerun-source/rerun', { from: 'validate', id: 'rerun-taken' });
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: 'run_exists', field: 'id' });
    expect(other.status).toBe(201);
    expect((await api.call('GET', '/api/runs/rerun-taken')).json).toEqual(before);
  });
});
