/**
 * `send` with a step named (`--step`, `step` of POST /api/runs/:id/events): a refusal says what is wrong (no such
 * step; that step is not waiting) and where the run does wait, instead of "it is not waiting for any event" about a
 * waiting run; and the step `run --json` prints as `waitingFor.step` for a run whose children wait (a map's items)
 * can be named: the event reaches the waiting child under that step. Real engine, real SQLite files, manual clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { defineTool } from '../../src/tools/define.js';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-send-step-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});
let dbs = 0;

function engine(): Engine {
  const store = createSqliteStore({ path: join(dir, `runs-${++dbs}.db`) });
  stores.push(store);
  return createEngine({ store, tools: [mark], model: { baseURL: 'http://127.0.0.1:9', apiKey: 'unused', maxRetries: 0 }, clock: new ManualClock() });
}

/** A branch's last step: the branch ends when it flows out. */
const mark = defineTool({ name: 'mark', description: 'Marks a branch done', input: z.object({ branch: z.string() }), run: ({ branch }) => ({ branch }) });
const gate = (to: string) => ({ wait: { on: { APPROVE: to, REJECT: to } } });
const branches = loadDefinitionFromObject(
  {
    id: 'two-gates',
    steps: {
      both: {
        parallel: {
          branches: {
            x: { steps: { nx: gate('x_done'), x_done: { tool: 'mark', with: { branch: 'x' } } } },
            y: { steps: { ny: gate('y_done'), y_done: { tool: 'mark', with: { branch: 'y' } } } },
          },
        },
        next: 'done',
      },
      done: { final: true, output: '{% $steps.both.output %}' },
    },
  },
  [mark],
  'two-gates',
);
const items = loadDefinitionFromObject(
  {
    id: 'item-gates',
    steps: {
      each: { map: { items: '{% $input.xs %}', steps: { hold: gate('ok'), ok: { final: true, output: '{% $event.type %}' } } }, next: 'done' },
      done: { final: true, output: '{% $steps.each.output %}' },
    },
  },
  [],
  'item-gates',
);

describe('send to a named step', () => {
  it('a step that does not exist, or no longer waits, is named as such, with where the run waits', async () => {
    const e = engine();
    const run = await e.start(branches, { runId: 'gates' });
    expect(run.status).toBe('waiting');
    await expect(e.send('gates', 'APPROVE', {}, { step: 'nope' })).rejects.toThrow(
      'Run "gates" has no step "nope" that waits: it waits at nx, ny for APPROVE, REJECT. Nothing was changed.',
    );
    await e.send('gates', 'APPROVE', {}, { step: 'nx' });
    await expect(e.send('gates', 'REJECT', {}, { step: 'nx' })).rejects.toThrow(
      'Run "gates" does not accept REJECT at step "nx" now: that step is not waiting; it waits at ny for APPROVE, REJECT. Nothing was changed.',
    );
    const done = await e.send('gates', 'REJECT', {}, { step: 'ny' });
    expect(done).toMatchObject({ status: 'done', output: { x: { branch: 'x' }, y: { branch: 'y' } } });
  });

  it("the step whose child runs wait (a map's items) takes the event for them, as its waitingFor says", async () => {
    const e = engine();
    const run = await e.start(items, { runId: 'items', input: { xs: [1] } });
    expect(run.waitingFor).toMatchObject({ step: 'each', events: ['APPROVE', 'REJECT'] });
    const done = await e.send('items', 'APPROVE', {}, { step: run.waitingFor!.step });
    expect(done).toMatchObject({ status: 'done', output: ['APPROVE'] });
  });
});
