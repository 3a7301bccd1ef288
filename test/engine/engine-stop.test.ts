/**
 * An engine made with `stop` (what `stepwise serve` gives its engine, aborted on SIGTERM): once it aborts, every
 * drive the engine is making (a start, a send) commits what is done at the next step boundary and returns, the run
 * left `running` for a worker or a resume to go on with, instead of starting step after step until the run rests.
 * Real engine, real SQLite file, manual clock; the tool is released by the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { defineTool } from '../../src/tools/define.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-engine-stop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let release: (() => void) | undefined;
let entered: (() => void) | undefined;
const calls: string[] = [];
const slow = defineTool({
  name: 'slow',
  description: 'A call the test releases',
  input: z.object({ n: z.number() }),
  run: async ({ n }) => {
    calls.push(`s${n}`);
    entered?.();
    await new Promise<void>((resolve) => (release = resolve));
    return { n };
  },
});

describe('an engine whose stop aborts', () => {
  it('ends its drives at the next step boundary; another engine goes on from there', async () => {
    const store = createSqliteStore({ path: join(dir, 'runs.db') });
    const stop = new AbortController();
    const model = { baseURL: 'http://127.0.0.1:9', apiKey: 'unused', maxRetries: 0 };
    const engine = createEngine({ store, tools: [slow], model, clock: new ManualClock({ autoAdvance: true }), stop: stop.signal });
    const definition = loadDefinitionFromObject(
      { id: 'three', steps: { s1: { tool: 'slow', with: { n: 1 } }, s2: { tool: 'slow', with: { n: 2 } }, s3: { tool: 'slow', with: { n: 3 } }, done: { final: true, output: '{% $steps.s3.output %}' } } },
      [slow],
      'three',
    );
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    const started = engine.start(definition, { runId: 'drained' });
    await inFlight;
    stop.abort();
    release!();
    const view = await started;
    expect(view.status).toBe('running');
    // At the boundary: s1 done, s2 next with no attempt made (its tool never called).
    expect(view.steps.map((s) => [s.id, s.status, s.attempts])).toEqual([['s1', 'done', 1], ['s2', 'running', 0]]);
    expect(calls).toEqual(['s1']);

    const other = createEngine({ store, tools: [slow], model, clock: new ManualClock({ autoAdvance: true }) });
    entered = () => queueMicrotask(() => release!());
    const done = await other.resume('drained');
    expect(done).toMatchObject({ status: 'done', output: { n: 3 } });
    expect(calls).toEqual(['s1', 's2', 's3']);
    await store.close();
  });
});
