/**
 * A worker on the real PostgreSQL store: each step is one statement (the
 * claims carry the releases and the cancel requests; no release or shared
 * read of its own; its idle check reads ids and leases, not whole runs), and
 * a worker that stops, idle or drained, leaves no run leased.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createConnectionMeter } from '../../src/bench/postgres-meter.js';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';
import { PG_URL, testSchemas } from '../pg.js';

const schemas = testSchemas('workerpg');
const tool = defineTool({ name: 'echo', description: 'Echo.', input: z.object({ x: z.string() }), run: async ({ x }) => ({ x, rows: Array.from({ length: 20 }, (_, i) => `row ${i}`) }) }) as unknown as AnyTool;
const definition = loadDefinitionFromObject(
  { id: 'echoes', steps: { a: { tool: 'echo', with: { x: 'a' } }, b: { tool: 'echo', with: { x: 'b' } }, c: { tool: 'echo', with: { x: 'c' } }, done: { final: true, output: '{% $steps.c.output.x %}' } } },
  [tool],
  'worker-postgres.test',
);

describe('a worker on PostgreSQL', () => {
  const meter = createConnectionMeter();
  const store = createPostgresStore({ url: PG_URL, schema: schemas.name(), pool: 1, onConnect: meter.attach });
  afterAll(() => store.close());
  const engine = createEngine({ store, tools: [tool], clock: new ManualClock({ autoAdvance: true }), model: { apiKey: 'unused' } });

  it('drives runs with no release or cancel read of its own, and exits idle with none leased', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, () => engine.start(definition, { input: {}, detach: true })));
    meter.reset();
    const summary = await engine.work({ exitWhenIdle: true, pollMs: 1, concurrency: 3 });
    expect(summary).toMatchObject({ claimed: 6, errors: 0 });
    const { statements } = meter.totals();
    expect(statements['release']).toBeUndefined();
    expect(statements['read_shared']).toBeUndefined();
    expect(statements['select']).toBeUndefined(); // its idle check reads ids and leases (running_leases), not whole runs
    expect(statements['running_leases']).toBeGreaterThan(0);
    expect(statements['claim']).toBeGreaterThan(0);
    for (const run of runs) {
      const stored = await store.get(run.runId);
      expect(stored).toMatchObject({ status: 'done', output: 'c', lease: null });
    }
  });

  it('a drained worker leaves no run leased', async () => {
    const runs = await Promise.all(Array.from({ length: 4 }, () => engine.start(definition, { input: {}, detach: true })));
    const drain = new AbortController();
    let done = 0;
    const unsubscribe = engine.subscribe((view) => {
      if (view.status === 'done' && ++done === 1) drain.abort(); // the first run's end: drain while the others are in flight
    });
    await engine.work({ signal: drain.signal, pollMs: 1, concurrency: 2 });
    unsubscribe();
    for (const run of runs) expect((await store.get(run.runId))?.lease).toBeNull();
    await engine.work({ exitWhenIdle: true, pollMs: 1 });
    for (const run of runs) expect(await store.get(run.runId)).toMatchObject({ status: 'done', lease: null });
  });
});
