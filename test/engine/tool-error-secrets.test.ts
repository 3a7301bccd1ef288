/**
 * A tool's error message is kept (the run's failure, its journal, the store)
 * with credentials hidden, as it is when fed back to the model: a tool that
 * fails with `password=…`, a bearer token or a URL's password in its message
 * leaves none of them in what Stepwise stores or shows. Found by outside testing.
 */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { defineTool } from '../../src/tools/define.js';

const SECRETS = ['hunter2-Sup3r', 'abcdefghijklmnopqrstuv', 'svcpass99'];

describe('tool errors', () => {
  it('are stored and shown with credentials hidden', async () => {
    const login = defineTool({
      name: 'login',
      description: 'Logs in',
      input: z.object({}),
      run: () => {
        throw Object.assign(new Error(`login failed: password=${SECRETS[0]} Authorization: Bearer ${SECRETS[1]} at https://svc:${SECRETS[2]}@erp.example/api`), { retryable: false });
      },
    });
    const store = createMemoryStore();
    const engine = createEngine({ store, tools: [login], clock: new ManualClock({ autoAdvance: true }), model: { baseURL: 'http://127.0.0.1:9', apiKey: 'x' } });
    const def = loadDefinitionFromObject({ id: 'logs-in', steps: { go: { tool: 'login' }, done: { final: true } } }, [login], 'logs-in');
    const run = await engine.start(def);
    expect(run.status).toBe('failed');
    expect(run.failure?.message).toContain('login failed: password=***');
    const kept = JSON.stringify([run, await engine.journal(run.runId), await store.get(run.runId)]);
    for (const secret of SECRETS) expect(kept).not.toContain(secret);
  });
});
