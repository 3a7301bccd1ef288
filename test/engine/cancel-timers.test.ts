/**
 * A cancel that comes after a timer came due: `cancel` first fires what is due
 * at the clock's now (a wait's timeout, the workflow deadline, a child run's
 * timers), as `send` does, and cancels the run only if it is still going
 * afterwards; a run those timers ended stays as it ended.
 * Real engine, real SQLite files, a manual clock that moves only when told.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-cancel-timers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});
const noModel = { baseURL: 'http://127.0.0.1:9', apiKey: 'unused', maxRetries: 0 };
let dbs = 0;

function engineOn(workflows: Parameters<typeof createEngine>[0]['workflows'] = []): { engine: Engine; clock: ManualClock } {
  const clock = new ManualClock();
  const store = createSqliteStore({ path: join(dir, `runs-${++dbs}.db`) });
  stores.push(store);
  return { engine: createEngine({ store, model: noModel, clock, workflows }), clock };
}

const define = (workflow: Record<string, unknown>) => loadDefinitionFromObject(workflow, [], String(workflow['id']));

/** A wait with a 2 s window; when it closes the run goes to `after` (a final step by default). */
const approval = (wait: Record<string, unknown> = { timeout: '2s', onTimeout: 'timed_out' }, extra: Record<string, unknown> = {}) =>
  define({
    id: 'approval-window',
    ...extra,
    steps: {
      ask: { wait: { on: { APPROVE: 'yes' }, ...wait } },
      escalate: { wait: { on: { APPROVE: 'yes' } } },
      yes: { final: true, output: 'approved' },
      timed_out: { final: true, output: 'timed out' },
    },
  });

const events = async (engine: Engine, runId: string) => (await engine.journal(runId)).map((e) => e.event);

describe('cancel after a timer came due', () => {
  it('a wait whose timeout passed took onTimeout to the end first: the run stays done, nothing is cancelled', async () => {
    const { engine, clock } = engineOn();
    const waiting = await engine.start(approval());
    clock.advance(3000);
    const view = await engine.cancel(waiting.runId, 'withdrawn');
    expect(view).toMatchObject({ status: 'done', output: 'timed out', failure: null });
    expect(await engine.get(waiting.runId)).toMatchObject({ status: 'done', output: 'timed out' });
    const journal = await engine.journal(waiting.runId);
    expect(journal.filter((e) => e.event === 'timeout')).toEqual([expect.objectContaining({ step: 'ask', at: waiting.waitingFor!.timeoutAt! + 1000 })]);
    expect(journal.some((e) => e.event === 'cancelled')).toBe(false);
    // No cancel request is left behind for a later drive to find.
    expect(await engine.store.readShared(`cancel:${waiting.runId}`)).toBeNull();
  });

  it('a wait whose timeout led to another wait: the timeout fires first, then the run is cancelled there', async () => {
    const { engine, clock } = engineOn();
    const waiting = await engine.start(approval({ timeout: '2s', onTimeout: 'escalate' }));
    clock.advance(3000);
    const view = await engine.cancel(waiting.runId, 'withdrawn');
    expect(view).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', step: 'escalate', message: 'withdrawn' } });
    const order = await events(engine, waiting.runId);
    expect(order.indexOf('timeout')).toBeGreaterThan(-1);
    expect(order.indexOf('timeout')).toBeLessThan(order.indexOf('cancelled'));
  });

  it('within the window the cancel cancels the waiting step', async () => {
    const { engine, clock } = engineOn();
    const waiting = await engine.start(approval());
    clock.advance(1999);
    expect(await engine.cancel(waiting.runId, 'withdrawn')).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', step: 'ask' } });
    expect(await events(engine, waiting.runId)).not.toContain('timeout');
  });

  it('the workflow deadline passed: the run fails with kind deadline, and the cancel leaves it so', async () => {
    const { engine, clock } = engineOn();
    const waiting = await engine.start(approval({}, { deadline: '2s' }));
    clock.advance(3000);
    const view = await engine.cancel(waiting.runId);
    expect(view).toMatchObject({ status: 'failed', resumable: false, failure: { kind: 'deadline' } });
    expect(await events(engine, waiting.runId)).not.toContain('cancelled');
  });

  it('a sub-workflow waiting past its timeout: cancelling the parent or the child finds both done', async () => {
    const timed = define({
      id: 'timed',
      steps: { ask: { wait: { on: { APPROVE: 'ok' }, timeout: '2s', onTimeout: 'late' } }, ok: { final: true, output: 'approved' }, late: { final: true, output: 'timed out' } },
    });
    const parent = define({ id: 'parent', steps: { sub: { workflow: { id: 'timed' }, next: 'done' }, done: { final: true, output: '{% $steps.sub.output %}' } } });
    const { engine, clock } = engineOn([timed]);

    const viaParent = await engine.start(parent);
    expect(viaParent.status).toBe('waiting');
    clock.advance(3000);
    expect(await engine.cancel(viaParent.runId)).toMatchObject({ status: 'done', output: 'timed out' });
    const [first] = await engine.store.list({ parentId: viaParent.runId });
    expect(first).toMatchObject({ status: 'done', output: 'timed out' });

    const viaChild = await engine.start(parent);
    const [child] = await engine.store.list({ parentId: viaChild.runId });
    clock.advance(3000);
    expect(await engine.cancel(child!.id)).toMatchObject({ status: 'done', output: 'timed out' });
    expect(await engine.get(viaChild.runId)).toMatchObject({ status: 'done', output: 'timed out' });
  });
});
