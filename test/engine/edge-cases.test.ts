/** Edge cases found by review: routes that depend on step order, a wait as first step, cancel of an ended run, choice errors. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEngine } from '../../src/engine/engine.js';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { defineTool } from '../../src/tools/define.js';
import { PG_URL, testSchemas } from '../pg.js';

const schemas = testSchemas('edge');

const add = defineTool({ name: 'add', description: 'Add one', input: z.object({ n: z.number() }), run: ({ n }) => ({ n: n + 1 }) });
const noModel = { baseURL: 'http://127.0.0.1:9', apiKey: 'unused', maxRetries: 0 };

/** Steps whose ids sort differently from the order they are listed in, and no `next` anywhere. */
const ordered = loadDefinitionFromObject(
  {
    id: 'ordered',
    steps: {
      zeta: { tool: 'add', with: { n: 0 } },
      hold: { wait: { on: { GO: 'alpha' } } },
      alpha: { tool: 'add', with: { n: '{% $steps.zeta.output.n %}' } },
      mid: { tool: 'add', with: { n: '{% $steps.alpha.output.n %}' } },
      end: { final: true, output: '{% $steps.mid.output.n %}' },
    },
  },
  [add],
  'ordered',
);

describe('engine edge cases', () => {
  it('a run reloaded from PostgreSQL (jsonb sorts keys) keeps the step order its definition relies on', async () => {
    const schema = schemas.name();
    const store = createPostgresStore({ url: PG_URL, schema });
    try {
      const engine = createEngine({ store, model: noModel });
      const started = await engine.start(ordered, { input: {} });
      expect(started.status).toBe('waiting');
      const done = await engine.send(started.runId, 'GO');
      expect(done.status).toBe('done');
      expect(done.steps.map((s) => s.id)).toEqual(['zeta', 'hold', 'alpha', 'mid', 'end']);
      expect(done.output).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('a workflow whose first step is a wait rests in waiting and accepts its event', async () => {
    const definition = loadDefinitionFromObject(
      { id: 'wait-first', steps: { hold: { wait: { on: { GO: 'fin' } } }, fin: { final: true, output: '{% $event.data %}' } } },
      [],
      'wait-first',
    );
    const store = createMemoryStore();
    const engine = createEngine({ store, model: noModel });
    const run = await engine.start(definition, { input: {} });
    expect(run.status).toBe('waiting');
    expect(run.waitingFor).toMatchObject({ step: 'hold', events: ['GO'] });
    expect((await engine.journal(run.runId)).map((e) => e.event)).toEqual(['created', 'waiting']);
    const done = await engine.send(run.runId, 'GO', { ok: 1 });
    expect(done).toMatchObject({ status: 'done', output: { ok: 1 } });
  });

  it('a worker leaves a wait-first run waiting and goes idle instead of claiming it forever', async () => {
    const definition = loadDefinitionFromObject(
      { id: 'wait-first', steps: { hold: { wait: { on: { GO: 'fin' } } }, fin: { final: true } } },
      [],
      'wait-first',
    );
    const store = createMemoryStore();
    const engine = createEngine({ store, model: noModel });
    const run = await engine.start(definition, { input: {}, detach: true });
    const summary = await engine.work({ pollMs: 5, exitWhenIdle: true });
    expect(summary.errors).toBe(0);
    expect(summary.claimed).toBe(1);
    expect((await engine.get(run.runId)).status).toBe('waiting');
  });

  it('cancel leaves a run that failed for good as it failed', async () => {
    const looping = loadDefinitionFromObject(
      {
        id: 'looping',
        limits: { maxVisits: 2 },
        steps: { a: { tool: 'add', with: { n: 1 }, next: 'b' }, b: { choice: [{ when: '{% $input.stop = true %}', next: 'c' }, { next: 'a' }] }, c: { final: true } },
      },
      [add],
      'looping',
    );
    const engine = createEngine({ store: createMemoryStore(), model: noModel });
    const failed = await engine.start(looping, { input: { stop: false } });
    expect(failed.failure?.kind).toBe('loop');
    const after = await engine.cancel(failed.runId);
    expect(after.status).toBe('failed');
    expect(after.failure?.kind).toBe('loop');
  });

  it('a choice condition that fails names its real cause in the run failure', async () => {
    const definition = loadDefinitionFromObject(
      {
        id: 'choose',
        steps: {
          r: { choice: [{ when: "{% $input.x > 1 %}", next: 'big' }, { next: 'small' }] },
          big: { final: true },
          small: { final: true },
        },
      },
      [],
      'choose',
    );
    const engine = createEngine({ store: createMemoryStore(), model: noModel });
    const run = await engine.start(definition, { input: {} });
    expect(run.status).toBe('failed');
    expect(run.failure).toMatchObject({ kind: 'invalid_data', step: 'r' });
    expect(run.failure?.message).toMatch(/choice "r": Condition `\$input\.x > 1` must produce true or false but produced nothing/);
    expect((await engine.start(definition, { input: { x: 5 } })).steps.at(-1)?.id).toBe('big');
  });
});
