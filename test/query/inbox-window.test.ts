/**
 * The inbox leaves out a step whose window has closed: a wait whose `timeout`
 * passed, a wait or review of a run (or of a parent run) whose `deadline`
 * passed. Such a step is not approvable (`send` fires the timer first and
 * refuses the event), though nothing has fired its timer yet. The inbox is a
 * query: it compares those times with `now` and drives nothing.
 * Real engine, real SQLite files, the emulator for the reviewed step, a manual clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { EventNotAcceptedError } from '../../src/errors.js';
import { inbox } from '../../src/query/inbox.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-inbox-window-'));
let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 1 });
});
afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});
let dbs = 0;

const pay = defineTool({ name: 'pay_vendor', description: 'Pay a vendor an amount in dollars', input: z.object({ vendor: z.string(), amount: z.number() }), run: (input) => input });

function engineOn(workflows: Parameters<typeof createEngine>[0]['workflows'] = []): { engine: Engine; clock: ManualClock } {
  const clock = new ManualClock();
  const store = createSqliteStore({ path: join(dir, `runs-${++dbs}.db`) });
  stores.push(store);
  const model = { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS };
  return { engine: createEngine({ store, tools: [pay], model, clock, workflows }), clock };
}

const define = (workflow: Record<string, unknown>) => loadDefinitionFromObject(workflow, [pay], String(workflow['id']));

const listed = async (engine: Engine, now: number) => (await inbox(engine.store, { now })).map((e) => [e.runId, e.step]);

describe('the inbox and closed windows', () => {
  it('a wait whose timeout passed is left out from its timeoutAt on, and approving it is refused', async () => {
    const { engine, clock } = engineOn();
    const waiting = await engine.start(define({ id: 'w', steps: { ask: { wait: { on: { APPROVE: 'ok' }, timeout: '2s', onTimeout: 'late' } }, ok: { final: true }, late: { final: true } } }));
    expect(await listed(engine, clock.now() + 1999)).toEqual([[waiting.runId, 'ask']]);
    expect(await listed(engine, clock.now() + 2000)).toEqual([]);
    // The query fired nothing: the run still waits in the store until something looks at it.
    expect((await engine.store.get(waiting.runId))?.status).toBe('waiting');
    clock.advance(2000);
    await expect(engine.send(waiting.runId, 'APPROVE')).rejects.toBeInstanceOf(EventNotAcceptedError);
  });

  it('the workflow deadline closes every wait and review of the run', async () => {
    const { engine, clock } = engineOn();
    const waiting = await engine.start(define({ id: 'd', deadline: '2s', steps: { ask: { wait: { on: { APPROVE: 'ok' } } }, ok: { final: true } } }));
    const reviewed = await engine.start(
      define({
        id: 'r',
        deadline: '1h',
        steps: { pay: { claude: { tool: 'pay_vendor', prompt: 'Pay ACME 120 dollars.' }, review: true, next: 'done' }, done: { final: true } },
      }),
    );
    expect(reviewed.status).toBe('waiting');
    const startedAt = clock.now();
    expect(new Set(await listed(engine, startedAt + 1000))).toEqual(new Set([[waiting.runId, 'ask'], [reviewed.runId, 'pay']]));
    expect(await listed(engine, startedAt + 2000)).toEqual([[reviewed.runId, 'pay']]);
    expect(await listed(engine, startedAt + 3_600_000)).toEqual([]);
  });

  it('parallel branches: only the branch whose wait timed out is left out', async () => {
    const { engine, clock } = engineOn();
    const started = await engine.start(
      define({
        id: 'two-windows',
        steps: {
          checks: {
            parallel: {
              branches: {
                left: { steps: { lw: { wait: { on: { APPROVE: 'l_ok' }, timeout: '2s', onTimeout: 'l_late' } }, l_ok: { final: true }, l_late: { final: true } } },
                right: { steps: { rw: { wait: { on: { APPROVE: 'r_ok' } } }, r_ok: { final: true } } },
              },
            },
            next: 'done',
          },
          done: { final: true },
        },
      }),
    );
    expect(new Set(await listed(engine, clock.now()))).toEqual(new Set([[started.runId, 'lw'], [started.runId, 'rw']]));
    expect(await listed(engine, clock.now() + 3000)).toEqual([[started.runId, 'rw']]);
  });

  it('a child run\'s wait closes with its parent\'s deadline, also when only the child\'s workflow is asked for', async () => {
    const child = define({ id: 'child', steps: { ask: { wait: { on: { APPROVE: 'ok' } } }, ok: { final: true } } });
    const parent = define({ id: 'parent', deadline: '2s', steps: { sub: { workflow: { id: 'child' }, next: 'done' }, done: { final: true } } });
    const { engine, clock } = engineOn([child]);
    await engine.start(parent);
    const [run] = await engine.store.list({ workflow: 'child' });
    expect(await listed(engine, clock.now() + 1000)).toEqual([[run!.id, 'ask']]);
    expect(await listed(engine, clock.now() + 2000)).toEqual([]);
    expect(await inbox(engine.store, { workflow: 'child', now: clock.now() + 2000 })).toEqual([]);
  });
});
