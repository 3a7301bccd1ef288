/**
 * A long-lived engine (a worker, a server) meets ever new definition versions: it holds the compiled runtimes of at
 * most COMPILED_MACHINES_HELD of them (1,800 versions had held 700 MB). A run parked at a wait whose definition was
 * given as an object, with its tools in memory (no module to load them from again), still goes on with those tools
 * after its runtime was let go. Real engine on SQLite, manual clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { COMPILED_MACHINES_HELD } from '../../src/engine/runtime.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { defineTool } from '../../src/tools/define.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-runtime-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stamp = defineTool({ name: 'stamp', description: 'Stamps a value', input: z.object({ v: z.number() }), run: ({ v }) => ({ stamped: v }) });

describe('the runtimes a long-lived engine holds', () => {
  it('a parked run keeps its in-memory tools after more than COMPILED_MACHINES_HELD other versions ran', async () => {
    const store = createSqliteStore({ path: join(dir, 'runs.db') });
    const engine = createEngine({ store, model: { baseURL: 'http://127.0.0.1:9', apiKey: 'unused' }, clock: new ManualClock({ autoAdvance: true }) });
    const parked = loadDefinitionFromObject(
      { id: 'parked', steps: { hold: { wait: { on: { GO: 'use' } } }, use: { tool: 'stamp', with: { v: 7 } }, done: { final: true, output: '{% $steps.use.output %}' } } },
      [stamp],
      'parked',
    );
    const run = await engine.start(parked, { runId: 'parked-1' });
    expect(run.status).toBe('waiting');
    for (let i = 0; i <= COMPILED_MACHINES_HELD; i++) {
      const other = loadDefinitionFromObject({ id: `other-${i}`, steps: { use: { tool: 'stamp', with: { v: i } }, done: { final: true } } }, [stamp], `other-${i}`);
      expect((await engine.start(other)).status).toBe('done');
    }
    const done = await engine.send('parked-1', 'GO');
    expect(done).toMatchObject({ status: 'done', output: { stamped: 7 } });
    await store.close();
  });
});
