/**
 * An event sent after a timer came due: `send` first fires what is due at the
 * clock's now (a wait's timeout, the workflow deadline, a child run's timers),
 * as `resume` does, and delivers the event only if the run still accepts it.
 * Real engine, real SQLite files, a manual clock that moves only when told.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { EventNotAcceptedError } from '../../src/errors.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-send-timers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  echoed.length = 0;
});

const echoed: string[] = [];
const echo = defineTool({ name: 'echo', description: 'Echo', input: z.object({ v: z.unknown() }), run: ({ v }) => (echoed.push(String(v)), { v }) });
const noModel = { baseURL: 'http://127.0.0.1:9', apiKey: 'unused', maxRetries: 0 };
let dbs = 0;

function engineOn(workflows: Parameters<typeof createEngine>[0]['workflows'] = []): { engine: Engine; clock: ManualClock } {
  const clock = new ManualClock();
  const store = createSqliteStore({ path: join(dir, `runs-${++dbs}.db`) });
  stores.push(store);
  return { engine: createEngine({ store, tools: [echo], model: noModel, clock, workflows }), clock };
}

const define = (workflow: Record<string, unknown>) => loadDefinitionFromObject(workflow, [echo], String(workflow['id']));

/** The tester's definition: a wait with a 2 s timeout that routes to `timed_out`. */
const approval = (wait: Record<string, unknown> = { timeout: '2s', onTimeout: 'timed_out' }, extra: Record<string, unknown> = {}) =>
  define({
    id: 'approval-window',
    ...extra,
    steps: {
      ask: { wait: { on: { APPROVE: 'echo_it', REJECT: 'no' }, ...wait } },
      echo_it: { tool: 'echo', with: { v: 'approved' }, next: 'yes' },
      yes: { final: true, output: 'approved' },
      no: { final: true, output: 'rejected' },
      timed_out: { final: true, output: 'timed out' },
    },
  });

describe('send after a timer came due', () => {
  it('a wait whose timeout passed takes onTimeout first; the late APPROVE is refused and the timeout stays committed', async () => {
    const { engine, clock } = engineOn();
    const waiting = await engine.start(approval());
    expect(waiting.status).toBe('waiting');
    expect(waiting.waitingFor?.timeoutAt).toBe(clock.now() + 2000);

    clock.advance(3000);
    const error = await engine.send(waiting.runId, 'APPROVE', undefined, { by: 'late-cfo' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventNotAcceptedError);
    expect(error).toMatchObject({ code: 'event_not_accepted' });
    expect((error as Error).message).toBe(
      `Run "${waiting.runId}" does not accept APPROVE now: it is not waiting for any event. Its timers were due and fired first: ` +
        'the wait at "ask" timed out at 2026-01-01T00:00:02.000Z (the run is now done); the event changed nothing.',
    );

    const after = await engine.get(waiting.runId);
    expect(after).toMatchObject({ status: 'done', output: 'timed out', waitingFor: null });
    expect(echoed).toEqual([]);
    const journal = await engine.journal(waiting.runId);
    expect(journal.filter((e) => e.event === 'timeout')).toEqual([expect.objectContaining({ step: 'ask', at: waiting.waitingFor!.timeoutAt! + 1000 })]);
    expect(journal.some((e) => e.event === 'event')).toBe(false);

    // Sent again, it is refused as any event to a finished run is, and changes nothing.
    const revision = (await engine.store.get(waiting.runId))?.revision;
    await expect(engine.send(waiting.runId, 'APPROVE')).rejects.toThrow(/not waiting for any event\. Nothing was changed/);
    expect((await engine.store.get(waiting.runId))?.revision).toBe(revision);
  });

  it('within the window the event is delivered; at the very timeout it is too late, as for resume', async () => {
    const { engine, clock } = engineOn();
    const early = await engine.start(approval());
    clock.advance(1999);
    expect(await engine.send(early.runId, 'APPROVE')).toMatchObject({ status: 'done', output: 'approved' });
    expect(echoed).toEqual(['approved']);

    const onTime = await engine.start(approval());
    clock.advance(2000);
    await expect(engine.send(onTime.runId, 'APPROVE')).rejects.toBeInstanceOf(EventNotAcceptedError);
    expect((await engine.get(onTime.runId)).output).toBe('timed out');
  });

  it('a wait without onTimeout fails the run when it times out; the late event is refused', async () => {
    const { engine, clock } = engineOn();
    const waiting = await engine.start(approval({ timeout: '2s' }));
    clock.advance(3000);
    await expect(engine.send(waiting.runId, 'APPROVE')).rejects.toBeInstanceOf(EventNotAcceptedError);
    expect(await engine.get(waiting.runId)).toMatchObject({ status: 'failed', failure: { kind: 'deadline', step: 'ask' } });
    expect(echoed).toEqual([]);
  });

  it('the workflow deadline passed: send fails the run with kind deadline and refuses the event', async () => {
    const { engine, clock } = engineOn();
    const waiting = await engine.start(approval({}, { deadline: '2s' }));
    expect((await engine.store.get(waiting.runId))?.wakeAt).toBe(clock.now() + 2000);
    clock.advance(3000);
    const error = await engine.send(waiting.runId, 'APPROVE').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventNotAcceptedError);
    expect((error as Error).message).toContain('the workflow deadline passed at 2026-01-01T00:00:02.000Z (the run is now failed, deadline)');
    expect(await engine.get(waiting.runId)).toMatchObject({ status: 'failed', failure: { kind: 'deadline' } });
    expect(echoed).toEqual([]);
  });

  it('parallel branches: the branch whose wait timed out takes onTimeout; the event goes to the branch still waiting for it', async () => {
    const definition = define({
      id: 'two-windows',
      steps: {
        checks: {
          parallel: {
            branches: {
              left: { steps: { lw: { wait: { on: { APPROVE: 'l_ok' }, timeout: '2s', onTimeout: 'l_late' } }, l_ok: { tool: 'echo', with: { v: 'left approved' } }, l_late: { tool: 'echo', with: { v: 'left late' } } } },
              right: { steps: { rw: { wait: { on: { APPROVE: 'r_ok' } } }, r_ok: { tool: 'echo', with: { v: 'right approved' } } } },
            },
          },
          next: 'done',
        },
        done: { final: true, output: '{% $steps.checks.output %}' },
      },
    });
    const { engine, clock } = engineOn();
    const first = await engine.start(definition);
    expect(first.status).toBe('waiting');
    clock.advance(3000);
    const done = await engine.send(first.runId, 'APPROVE');
    expect(done.status).toBe('done');
    expect(done.output).toEqual({ left: { v: 'left late' }, right: { v: 'right approved' } });
    expect(echoed).toEqual(['left late', 'right approved']);

    // Naming the branch whose window closed: refused, its timeout committed, the other branch still waits.
    echoed.length = 0;
    const second = await engine.start(definition);
    clock.advance(3000);
    const error = await engine.send(second.runId, 'APPROVE', undefined, { step: 'lw' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventNotAcceptedError);
    expect((error as Error).message).toContain('"lw"');
    const after = await engine.get(second.runId);
    expect(after.status).toBe('waiting');
    expect(after.steps.find((s) => s.id === 'l_late')?.status).toBe('done');
    expect(echoed).toEqual(['left late']);
    expect((await engine.send(second.runId, 'APPROVE', undefined, { step: 'rw' })).status).toBe('done');
  });

  it('a branch whose retry backoff ended runs its retry before the event reaches the other branch\'s wait', async () => {
    let calls = 0;
    const flaky = defineTool({ name: 'flaky', description: 'Fails its first call', input: z.object({}), run: () => (++calls === 1 ? Promise.reject(new Error('blip')) : { ok: true }) });
    const definition = loadDefinitionFromObject(
      {
        id: 'retry-beside-wait',
        steps: {
          checks: {
            parallel: {
              branches: {
                left: { steps: { l0: { tool: 'flaky', with: {}, retry: { maxAttempts: 3, backoff: { initial: '1s', jitter: 0 } } } } },
                right: { steps: { rw: { wait: { on: { APPROVE: 'r1' } } }, r1: { tool: 'echo', with: { v: 'right approved' } } } },
              },
            },
            next: 'done',
          },
          done: { final: true, output: '{% $steps.checks.output %}' },
        },
      },
      [flaky, echo],
      'retry-beside-wait',
    );
    const { engine, clock } = engineOn();
    // Advanced one step with no sleeping (as a worker or a serverless handler does): l0 failed and waits out its backoff.
    const started = await engine.start(definition, { detach: true });
    await engine.step(started.runId);
    expect(await engine.store.get(started.runId)).toMatchObject({ status: 'running', wakeAt: clock.now() + 1000 });
    clock.advance(1000);
    const done = await engine.send(started.runId, 'APPROVE', undefined, { step: 'rw' });
    expect(done).toMatchObject({ status: 'done', output: { left: { ok: true }, right: { v: 'right approved' } } });
    const journal = await engine.journal(started.runId);
    const seq = (step: string, event: string) => journal.find((e) => e.step === step && e.event === event)!.seq;
    expect(seq('l0', 'completed')).toBeLessThan(seq('rw', 'event'));
  });

  it('map items waiting: the items whose timeout passed take onTimeout; the late APPROVE reaches none of them', async () => {
    const definition = define({
      id: 'item-windows',
      input: { type: 'object' },
      steps: {
        each: {
          map: {
            items: '{% $input.items %}',
            steps: { ask: { wait: { on: { APPROVE: 'ok' }, timeout: '2s', onTimeout: 'late' } }, ok: { final: true, output: 'approved' }, late: { final: true, output: 'late' } },
          },
          next: 'done',
        },
        done: { final: true, output: '{% $steps.each.output %}' },
      },
    });
    const { engine, clock } = engineOn();
    const waiting = await engine.start(definition, { input: { items: [1, 2] } });
    expect(waiting.status).toBe('waiting');
    clock.advance(3000);
    await expect(engine.send(waiting.runId, 'APPROVE')).rejects.toBeInstanceOf(EventNotAcceptedError);
    expect(await engine.get(waiting.runId)).toMatchObject({ status: 'done', output: ['late', 'late'] });
    const items = await engine.store.list({ parentId: waiting.runId });
    expect(items.map((c) => [c.status, c.output])).toEqual([
      ['done', 'late'],
      ['done', 'late'],
    ]);
  });

  it('a sub-workflow waiting past its timeout: sent to the parent or to the child, the event is refused after the timeout fired', async () => {
    const timed = define({
      id: 'timed',
      steps: { ask: { wait: { on: { APPROVE: 'ok' }, timeout: '2s', onTimeout: 'late' } }, ok: { final: true, output: 'approved' }, late: { final: true, output: 'timed out' } },
    });
    const parent = define({ id: 'parent', steps: { sub: { workflow: { id: 'timed' }, next: 'done' }, done: { final: true, output: '{% $steps.sub.output %}' } } });
    const { engine, clock } = engineOn([timed]);

    const viaParent = await engine.start(parent);
    expect(viaParent.status).toBe('waiting');
    clock.advance(3000);
    await expect(engine.send(viaParent.runId, 'APPROVE')).rejects.toBeInstanceOf(EventNotAcceptedError);
    expect(await engine.get(viaParent.runId)).toMatchObject({ status: 'done', output: 'timed out' });

    const viaChild = await engine.start(parent);
    const [child] = await engine.store.list({ parentId: viaChild.runId });
    clock.advance(3000);
    await expect(engine.send(child!.id, 'APPROVE')).rejects.toBeInstanceOf(EventNotAcceptedError);
    expect(await engine.store.get(child!.id)).toMatchObject({ status: 'done', output: 'timed out' });
    expect(await engine.get(viaChild.runId)).toMatchObject({ status: 'done', output: 'timed out' });
  });
});
