/**
 * A custom definition catalog (`createServer(engine, { definitions: { get } })`) says a workflow is not there by
 * answering `undefined` or `null`: `POST /api/runs` then answers 404 `workflow_not_found` naming `workflow`, as
 * for a definitions directory without it (it answered 500 `internal`: a catalog had no way to say "not found").
 * What else a catalog throws stays a 500, its message in the server's log only. Through a real server on a port.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import type { DefinitionCatalog } from '../../src/server/definitions.js';
import { defineTool } from '../../src/tools/define.js';
import { startApi, type Api } from './helpers.js';

const echo = defineTool({ name: 'echo', description: 'Echo', input: z.object({ v: z.number() }), run: ({ v }) => ({ v }) });
const known = loadDefinitionFromObject({ id: 'known', steps: { a: { tool: 'echo', with: { v: 1 }, next: 'done' }, done: { final: true, output: '{% $steps.a.output %}' } } }, [echo], 'known');

let api: Api | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** A catalog that has `known` and answers `missing` for any other id. */
const catalog = (missing: undefined | null): DefinitionCatalog => ({ get: async (id) => (id === 'known' ? known : missing) });

describe('a custom definition catalog', () => {
  it.each([['undefined', undefined], ['null', null]] as const)('answering %s for an id: POST /api/runs is a 404 workflow_not_found naming workflow', async (_name, missing) => {
    api = await startApi({ definitions: catalog(missing) });
    const { status, json } = await api.call('POST', '/api/runs', { workflow: 'nope', input: {} });
    expect(status).toBe(404);
    expect(json).toEqual({ error: { code: 'workflow_not_found', message: 'workflow: no definition with id "nope" in the definition catalog', field: 'workflow' } });
    expect(api.logs).toEqual([]);
    expect(await api.store.list({})).toEqual([]);
    // The ids it has start runs.
    const started = await api.call('POST', '/api/runs', { workflow: 'known', input: {} });
    expect(started.status).toBe(201);
    expect(started.json).toMatchObject({ workflow: 'known', status: 'done', output: { v: 1 } });
  });

  it('throwing something else is still a 500, its message logged and not answered', async () => {
    api = await startApi({ definitions: { get: async () => Promise.reject(new Error('catalog database down')) } });
    const { status, json } = await api.call('POST', '/api/runs', { workflow: 'known', input: {} });
    expect(status).toBe(500);
    expect(json.error.code).toBe('internal');
    expect(JSON.stringify(json)).not.toContain('catalog database down');
    expect(api.logs.join('\n')).toContain('catalog database down');
  });

  it('a definitions directory without the id answers the same 404, naming the directory', async () => {
    api = await startApi();
    const { status, json } = await api.call('POST', '/api/runs', { workflow: 'nope', input: {} });
    expect(status).toBe(404);
    expect(json).toEqual({ error: { code: 'workflow_not_found', message: 'workflow: no definition with id "nope" in the definitions directory', field: 'workflow' } });
  });
});
