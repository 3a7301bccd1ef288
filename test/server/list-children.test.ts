/**
 * Child runs (a map's items, a sub-workflow) are hidden from `engine.list()`
 * and `GET /api/runs` by default, as `stepwise list` hides them; asking for
 * them (`{ children: true }`, `?children=true`) lists every run, and a
 * `parentId` filter lists one run's children.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, startApi, type Api } from './helpers.js';

let api: Api;
let parent: string;
beforeAll(async () => {
  api = await startApi();
  const input = JSON.parse(readFileSync(join(root, 'definitions', 'invoice-line-items.input.json'), 'utf8')) as unknown;
  const started = await api.call('POST', '/api/runs', { workflow: 'invoice-line-items', input });
  expect(started.status, started.text).toBe(201);
  parent = started.json.runId as string;
});
afterAll(() => api.close());

describe('listing runs hides child runs unless asked', () => {
  it('engine.list(): top-level runs by default, every run with children: true, one run\'s children by parentId', async () => {
    expect((await api.engine.list()).map((r) => r.runId)).toEqual([parent]);
    const all = await api.engine.list({ children: true });
    expect(all).toHaveLength(1 + 5);
    const children = await api.engine.list({ parentId: parent });
    expect(children.map((r) => r.workflow)).toEqual(Array(5).fill('invoice-line-items.lines'));
    expect(await api.engine.list({ children: true, workflow: 'invoice-line-items' })).toHaveLength(1);
  });

  it('GET /api/runs: top-level runs by default, every run with ?children=true', async () => {
    const top = await api.call('GET', '/api/runs');
    expect(top.status).toBe(200);
    expect(top.json.runs.map((r: { runId: string }) => r.runId)).toEqual([parent]);
    const all = await api.call('GET', '/api/runs?children=true');
    expect(all.json.runs).toHaveLength(6);
    expect((await api.call('GET', '/api/runs?children=false')).json.runs).toHaveLength(1);
    const bad = await api.call('GET', '/api/runs?children=yes');
    expect(bad.status).toBe(400);
  });
});
