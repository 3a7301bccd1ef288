/**
 * A cancel that comes after a timer came due: `cancel` first fires what is due
 * at the clock's now (a wait's timeout, the workflow deadline, a child run's
 * timers), as `send` does, and cancels the run only if it is still going
 * afterwards; a run those timers ended stays as it ended. Firing starts no
 * work: a timeout (or a retry) that leads into a tool or model step leaves the
 * run at that step, which the cancel then cancels without running it.
 * Real engine, real SQLite files, a manual clock that moves only when told; the
 * model server is a real node:http server that counts the requests it gets.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/engine.js';
import type { RunView } from '../../src/engine/view.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import { recordNote } from '../guards/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-cancel-timers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stores: Store[] = [];
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  // A tool a failing test let run is released first, so the cancel it held up ends before its store closes.
  for (const clean of cleanups.splice(0).reverse()) await clean();
  for (const s of stores.splice(0)) await s.close();
});
const noModel = { baseURL: 'http://127.0.0.1:9', apiKey: 'unused', maxRetries: 0 };
let dbs = 0;

function engineOn(workflows: EngineOptions['workflows'] = [], more: Partial<EngineOptions> = {}): { engine: Engine; clock: ManualClock } {
  const clock = new ManualClock();
  const store = createSqliteStore({ path: join(dir, `runs-${++dbs}.db`) });
  stores.push(store);
  return { engine: createEngine({ store, model: noModel, clock, workflows, ...more }), clock };
}

const define = (workflow: Record<string, unknown>, tools: Parameters<typeof loadDefinitionFromObject>[1] = []) => loadDefinitionFromObject(workflow, tools, String(workflow['id']));

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

/** Calls of the tools below, by tool and item. */
const calls: string[] = [];
/** Resolves when `escalate` is called: a test races it against the cancel. */
let called: Promise<string> = Promise.resolve('');
let onCall: (name: string) => void = () => {};
const expectCalls = () => (called = new Promise<string>((resolve) => (onCall = resolve)));
/** Releases every call of `escalate` still running (a failing test's). */
const releases = new Set<() => void>();

/**
 * A tool that never returns by itself: it ends when its signal aborts (or the test lets it go). A cancel that ran it
 * before recording its request would never return.
 */
const escalate = defineTool({
  name: 'escalate',
  description: 'Escalates the case; returns only when aborted',
  input: z.object({ n: z.unknown().optional() }),
  run: (input, ctx) => {
    calls.push(`escalate ${JSON.stringify(input.n ?? null)}`);
    onCall('escalate');
    return new Promise((resolve) => {
      const release = () => resolve({ escalated: true });
      releases.add(release);
      ctx.signal.addEventListener('abort', release, { once: true });
    });
  },
});

/** What settles first: the cancel (its view), or a call of `escalate` (which must not come). */
async function cancelFirst(engine: Engine, runId: string): Promise<RunView | string> {
  cleanups.push(() => {
    for (const release of releases) release();
    releases.clear();
    calls.length = 0;
  });
  expectCalls();
  return Promise.race([engine.cancel(runId, 'withdrawn'), called.then((name) => `${name} was called`)]);
}

/** A wait with a 2 s window; when it closes the run goes to `esc`, a step that does work. */
const escalating = (esc: Record<string, unknown>, tools: Parameters<typeof define>[1]) =>
  define(
    {
      id: 'escalating',
      steps: {
        ask: { wait: { on: { APPROVE: 'yes' }, timeout: '2s', onTimeout: 'esc' } },
        esc: { ...esc, next: 'yes' },
        yes: { final: true, output: 'approved' },
      },
    },
    tools,
  );

describe('cancel after a timer came due that leads into work', () => {
  it('a timeout into a tool step: the run is cancelled at that step, the tool never called', async () => {
    const { engine, clock } = engineOn([], { tools: [escalate] });
    const waiting = await engine.start(escalating({ tool: 'escalate', with: {} }, [escalate]));
    clock.advance(3000);
    const view = await cancelFirst(engine, waiting.runId);
    expect(view).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', step: 'esc', message: 'withdrawn' } });
    expect(calls).toEqual([]);
    const journal = await engine.journal(waiting.runId);
    // The timeout fired and was committed before the cancel; the tool step was never started.
    expect(journal.map((e) => [e.step, e.event]).filter(([, event]) => event !== 'created')).toEqual([
      ['ask', 'waiting'],
      ['ask', 'timeout'],
      [null, 'cancelled'],
    ]);
    expect(await engine.store.readShared(`cancel:${waiting.runId}`)).toBeNull();
  });

  it('a timeout into a claude step: no request reaches the model server, the run is cancelled at that step', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'no' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const model = { baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'unused', maxRetries: 0 };
    const { engine, clock } = engineOn([], { model });
    const waiting = await engine.start(escalating({ claude: { tool: 'record_note', prompt: 'Record a note about the escalation.', maxTokens: 100 } }, [recordNote]));
    clock.advance(3000);
    expect(await engine.cancel(waiting.runId, 'withdrawn')).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', step: 'esc' } });
    expect(seen).toEqual([]);
    expect((await engine.journal(waiting.runId)).filter((e) => e.step === 'esc')).toEqual([]);
  });

  it('a retry whose backoff ended: the step is cancelled, not tried again', async () => {
    let tries = 0;
    const flaky = defineTool({ name: 'flaky', description: 'Fails its first call', input: z.object({}), run: () => (++tries === 1 ? Promise.reject(new Error('blip')) : { ok: true }) });
    const { engine, clock } = engineOn([], { tools: [flaky] });
    const definition = define({ id: 'backoff', steps: { call: { tool: 'flaky', with: {}, retry: { maxAttempts: 3, backoff: { initial: '1h', max: '1h', jitter: 0 } } }, done: { final: true, output: 'ok' } } }, [flaky]);
    // Advanced one step with no sleeping, as a worker does: the call failed and waits out its backoff.
    const started = await engine.start(definition, { detach: true });
    await engine.step(started.runId);
    expect(await engine.store.get(started.runId)).toMatchObject({ status: 'running', wakeAt: clock.now() + 3_600_000 });
    clock.advance(3_600_000);
    expect(await engine.cancel(started.runId)).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', step: 'call' } });
    expect(tries).toBe(1);
  });

  it('map items whose timeout leads into a tool: the items and the run are cancelled, the tool never called', async () => {
    const { engine, clock } = engineOn([], { tools: [escalate] });
    const definition = define(
      {
        id: 'item-escalations',
        input: { type: 'object' },
        steps: {
          each: {
            map: {
              items: '{% $input.items %}',
              steps: {
                ask: { wait: { on: { APPROVE: 'ok' }, timeout: '2s', onTimeout: 'esc' } },
                esc: { tool: 'escalate', with: { n: '{% $input.item %}' }, next: 'ok' },
                ok: { final: true, output: 'handled' },
              },
            },
            next: 'done',
          },
          done: { final: true, output: '{% $steps.each.output %}' },
        },
      },
      [escalate],
    );
    const waiting = await engine.start(definition, { input: { items: [1, 2] } });
    expect(waiting.status).toBe('waiting');
    clock.advance(3000);
    expect(await cancelFirst(engine, waiting.runId)).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', step: 'each' } });
    expect(calls).toEqual([]);
    const items = await engine.store.list({ parentId: waiting.runId });
    expect(items.map((item) => [item.status, item.failure?.step])).toEqual([
      ['cancelled', 'esc'],
      ['cancelled', 'esc'],
    ]);
    for (const item of items) {
      const events = (await engine.journal(item.id)).map((e) => e.event);
      expect(events).toContain('timeout');
      expect(events).not.toContain('started');
    }
  });

  it('a sub-workflow whose timeout leads into a tool: cancelling the parent cancels both, the tool never called', async () => {
    const timed = define(
      {
        id: 'timed-escalation',
        steps: {
          ask: { wait: { on: { APPROVE: 'ok' }, timeout: '2s', onTimeout: 'esc' } },
          esc: { tool: 'escalate', with: {}, next: 'ok' },
          ok: { final: true, output: 'handled' },
        },
      },
      [escalate],
    );
    const parent = define({ id: 'parent', steps: { sub: { workflow: { id: 'timed-escalation' }, next: 'done' }, done: { final: true, output: '{% $steps.sub.output %}' } } });
    const { engine, clock } = engineOn([timed], { tools: [escalate] });
    const waiting = await engine.start(parent);
    expect(waiting.status).toBe('waiting');
    clock.advance(3000);
    expect(await cancelFirst(engine, waiting.runId)).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', step: 'sub' } });
    expect(calls).toEqual([]);
    const [child] = await engine.store.list({ parentId: waiting.runId });
    expect(child).toMatchObject({ status: 'cancelled', failure: { step: 'esc' } });
    const events = (await engine.journal(child!.id)).map((e) => e.event);
    expect(events).toContain('timeout');
    expect(events).not.toContain('started');
  });
});
