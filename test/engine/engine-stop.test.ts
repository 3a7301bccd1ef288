/**
 * An engine made with `stop` (what `stepwise serve` gives its engine, aborted on SIGTERM): once it aborts, every
 * drive the engine is making (a start, a send) commits what is done at the next step boundary and returns, the run
 * left `running` for a worker or a resume to go on with, instead of starting step after step until the run rests.
 * A drive sleeping through a retry backoff wakes at once; child runs (a map's items, a sub-workflow) stop at their own
 * step boundaries and no new item starts. What came due before an event or a cancel still fires (it starts no work),
 * so a late approval is refused while the server drains, as at any other time.
 * Real engine, real SQLite files, manual clock; the tools are released by the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { EventNotAcceptedError } from '../../src/errors.js';
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

const model = { baseURL: 'http://127.0.0.1:9', apiKey: 'unused', maxRetries: 0 };
let dbs = 0;
const fileOf = () => join(dir, `runs-${++dbs}.db`);
const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** Calls of `gated`; each waits until the test opens the gate (`open`), after which calls return at once. */
const gatedCalls: number[] = [];
let opened = false;
const waiting = new Set<() => void>();
let onGated: () => void = () => {};
const open = () => {
  opened = true;
  for (const go of waiting) go();
  waiting.clear();
};
const gated = defineTool({
  name: 'gated',
  description: 'A call the test lets through',
  input: z.object({ n: z.number() }),
  run: async ({ n }) => {
    gatedCalls.push(n);
    onGated();
    if (!opened) await new Promise<void>((resolve) => waiting.add(resolve));
    return { n };
  },
});
/** Resolves at the next call of `gated`. */
const nextCall = () => new Promise<void>((resolve) => (onGated = resolve));
const resetGate = () => {
  gatedCalls.length = 0;
  opened = false;
  onGated = () => {};
};

describe('an engine whose stop aborts, with retries and child runs', () => {
  it('wakes a drive sleeping through a retry backoff at once: the run is left running with its backoff committed', async () => {
    const store = createSqliteStore({ path: fileOf() });
    const clock = new ManualClock();
    const stop = new AbortController();
    let tries = 0;
    const flaky = defineTool({ name: 'flaky', description: 'Fails its first call', input: z.object({}), run: () => (++tries === 1 ? Promise.reject(new Error('blip')) : { ok: true }) });
    const engine = createEngine({ store, tools: [flaky], model, clock, stop: stop.signal });
    const definition = loadDefinitionFromObject(
      { id: 'sleepy', steps: { call: { tool: 'flaky', with: {}, retry: { maxAttempts: 3, backoff: { initial: '1h', max: '1h', jitter: 0 } } }, done: { final: true, output: 'ok' } } },
      [flaky],
      'sleepy',
    );
    // The backoff is committed (with the failure's `retry_scheduled` entry) right before the drive sleeps through it.
    const backoff = new Promise<void>((resolve) => engine.subscribe((_run, journal) => (journal.some((e) => e.event === 'retry_scheduled') ? resolve() : undefined)));
    let returned: unknown = 'still sleeping';
    const started = engine.start(definition, { runId: 'sleepy' }).then((view) => (returned = view));
    await backoff;
    stop.abort();
    await ticks(100);
    const seen = returned;
    clock.advance(3_600_000); // lets a drive that slept on go, so the test ends either way
    await started;
    expect(seen).toMatchObject({ status: 'running' });
    expect(tries).toBe(1);
    expect((await store.get('sleepy'))?.wakeAt).toBe(Date.UTC(2026, 0, 1) + 3_600_000);
    // Another engine goes on when the backoff has ended.
    const other = createEngine({ store, tools: [flaky], model, clock });
    expect(await other.resume('sleepy')).toMatchObject({ status: 'done', output: 'ok' });
    await store.close();
  });

  it("stops a map's item at its own step boundary and starts no other item; a resume goes on from there", async () => {
    resetGate();
    const store = createSqliteStore({ path: fileOf() });
    const stop = new AbortController();
    const engine = createEngine({ store, tools: [gated], model, clock: new ManualClock({ autoAdvance: true }), stop: stop.signal });
    const definition = loadDefinitionFromObject(
      {
        id: 'items',
        input: { type: 'object' },
        steps: {
          each: {
            map: {
              items: '{% $input.items %}',
              maxConcurrency: 1,
              steps: { a: { tool: 'gated', with: { n: '{% $input.item %}' } }, b: { tool: 'gated', with: { n: '{% $input.item * 10 %}' } }, out: { final: true, output: '{% $steps.b.output.n %}' } },
            },
            next: 'done',
          },
          done: { final: true, output: '{% $steps.each.output %}' },
        },
      },
      [gated],
      'items',
    );
    const first = nextCall();
    const started = engine.start(definition, { runId: 'mapped', input: { items: [1, 2, 3] } });
    await first;
    stop.abort();
    open(); // every call returns at once from here on: a drive that does not stop runs the whole map
    const view = await started;
    expect(view.status).toBe('running');
    // Item 1 finished step a and stopped before b; items 2 and 3 were never started.
    expect(gatedCalls).toEqual([1]);
    const items = await store.list({ parentId: 'mapped' });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: 'running' });
    expect((await engine.journal(items[0]!.id)).filter((e) => e.event === 'completed').map((e) => e.step)).toEqual(['a']);

    const other = createEngine({ store, tools: [gated], model, clock: new ManualClock({ autoAdvance: true }) });
    expect(await other.resume('mapped')).toMatchObject({ status: 'done', output: [10, 20, 30] });
    expect(gatedCalls).toEqual([1, 10, 2, 20, 3, 30]);
    await store.close();
  });

  it("stops a sub-workflow's child at its own step boundary; a resume goes on from there", async () => {
    resetGate();
    const store = createSqliteStore({ path: fileOf() });
    const stop = new AbortController();
    const child = loadDefinitionFromObject(
      { id: 'two-calls', steps: { a: { tool: 'gated', with: { n: 1 } }, b: { tool: 'gated', with: { n: 2 } }, out: { final: true, output: '{% $steps.b.output.n %}' } } },
      [gated],
      'two-calls',
    );
    const parent = loadDefinitionFromObject({ id: 'parent', steps: { sub: { workflow: { id: 'two-calls' }, next: 'done' }, done: { final: true, output: '{% $steps.sub.output %}' } } }, [], 'parent');
    const engine = createEngine({ store, tools: [gated], model, clock: new ManualClock({ autoAdvance: true }), stop: stop.signal, workflows: [child] });
    const first = nextCall();
    const started = engine.start(parent, { runId: 'nested' });
    await first;
    stop.abort();
    open();
    expect(await started).toMatchObject({ status: 'running' });
    expect(gatedCalls).toEqual([1]);
    const [sub] = await store.list({ parentId: 'nested' });
    expect(sub).toMatchObject({ status: 'running' });
    expect((await engine.journal(sub!.id)).filter((e) => e.event === 'started').map((e) => e.step)).toEqual(['a']);

    const other = createEngine({ store, tools: [gated], model, clock: new ManualClock({ autoAdvance: true }), workflows: [child] });
    expect(await other.resume('nested')).toMatchObject({ status: 'done', output: 2 });
    expect(gatedCalls).toEqual([1, 2]);
    await store.close();
  });

  it('drives a sub-workflow child an event was sent to only to its next step boundary', async () => {
    resetGate();
    open();
    const store = createSqliteStore({ path: fileOf() });
    const stop = new AbortController();
    const child = loadDefinitionFromObject(
      {
        id: 'approve-then-call',
        steps: { ask: { wait: { on: { APPROVE: 'a' } } }, a: { tool: 'gated', with: { n: 1 } }, b: { tool: 'gated', with: { n: 2 } }, out: { final: true, output: '{% $steps.b.output.n %}' } },
      },
      [gated],
      'approve-then-call',
    );
    const parent = loadDefinitionFromObject({ id: 'parent', steps: { sub: { workflow: { id: 'approve-then-call' }, next: 'done' }, done: { final: true, output: '{% $steps.sub.output %}' } } }, [], 'parent');
    const engine = createEngine({ store, tools: [gated], model, clock: new ManualClock({ autoAdvance: true }), stop: stop.signal, workflows: [child] });
    expect(await engine.start(parent, { runId: 'asks' })).toMatchObject({ status: 'waiting' });
    const [sub] = await store.list({ parentId: 'asks' });
    stop.abort();
    // The event is taken and committed; the steps it leads to are left to whoever goes on with the run.
    expect(await engine.send(sub!.id, 'APPROVE')).toMatchObject({ status: 'running' });
    expect(gatedCalls).toEqual([]);
    expect((await engine.journal(sub!.id)).map((e) => e.event)).toContain('event');

    const other = createEngine({ store, tools: [gated], model, clock: new ManualClock({ autoAdvance: true }), workflows: [child] });
    expect(await other.resume('asks')).toMatchObject({ status: 'done', output: 2 });
    expect(gatedCalls).toEqual([1, 2]);
    await store.close();
  });
});

describe('an engine whose stop aborted, asked to send or cancel after a timer came due', () => {
  /** A wait with a 2 s window that times out to `no` (the end), or to the step `onTimeout` names. */
  const window = (onTimeout = 'no') =>
    loadDefinitionFromObject(
      {
        id: 'window',
        steps: {
          ask: { wait: { on: { APPROVE: 'yes' }, timeout: '2s', onTimeout } },
          again: { wait: { on: { APPROVE: 'yes' } } },
          yes: { final: true, output: 'approved' },
          no: { final: true, output: 'timed out' },
        },
      },
      [],
      'window',
    );
  const stopping = (): { engine: Engine; clock: ManualClock; stop: AbortController } => {
    const clock = new ManualClock();
    const stop = new AbortController();
    return { engine: createEngine({ store: createSqliteStore({ path: fileOf() }), model, clock, stop: stop.signal }), clock, stop };
  };

  it('fires the timeout before a late event, which is refused: the run ends as its timeout said, not approved', async () => {
    const { engine, clock, stop } = stopping();
    const started = await engine.start(window());
    expect(started.status).toBe('waiting');
    clock.advance(3000);
    stop.abort();
    const error = await engine.send(started.runId, 'APPROVE').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventNotAcceptedError);
    expect(await engine.get(started.runId)).toMatchObject({ status: 'done', output: 'timed out' });
    const events = (await engine.journal(started.runId)).map((e) => e.event);
    expect(events).toContain('timeout');
    expect(events).not.toContain('event');
    await engine.store.close();
  });

  it('fires the timeout before a cancel: a run it ended stays done, one it led to another wait is cancelled there', async () => {
    const { engine, clock, stop } = stopping();
    const ended = await engine.start(window());
    const rewaited = await engine.start(window('again'));
    clock.advance(3000);
    stop.abort();
    expect(await engine.cancel(ended.runId)).toMatchObject({ status: 'done', output: 'timed out' });
    expect(await engine.cancel(rewaited.runId)).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', step: 'again' } });
    await engine.store.close();
  });
});
