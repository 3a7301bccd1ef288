/**
 * Steps that never end cannot hold a run: a `tool` step's `timeout` fails the
 * attempt as a retryable `timeout` on the engine's clock (a manual one here,
 * so nothing waits in real time) even when the tool ignores its signal, and
 * `cancel` interrupts a step in flight, whether the drive is in the same
 * engine or in another one on the same SQLite file or PostgreSQL schema.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type EngineOptions } from '../../src/engine/engine.js';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { slowTool } from '../../src/testing/tool-faults.js';
import { defineTool, type AnyTool, type ToolContext } from '../../src/tools/define.js';
import { PG_URL as URL, testSchemas } from '../pg.js';

const schemas = testSchemas('interrupt');

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

function sqliteFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-interrupt-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'runs.db');
}

function sqlite(file: string): Store {
  const store = createSqliteStore({ path: file });
  cleanups.push(() => store.close());
  return store;
}

async function postgresPair(): Promise<[Store, Store]> {
  const schema = schemas.name();
  const a = createPostgresStore({ url: URL, schema, pool: 3 });
  await a.migrate();
  const b = createPostgresStore({ url: URL, schema, pool: 3 });
  await b.migrate();
  cleanups.push(() => schemas.drop(schema));
  cleanups.push(() => a.close());
  cleanups.push(() => b.close());
  return [a, b];
}

/** A tool that never settles and ignores its signal; `called` resolves with the signal of its first call. */
function hangingTool() {
  let calls = 0;
  let called!: (signal: AbortSignal) => void;
  const first = new Promise<AbortSignal>((resolve) => (called = resolve));
  const tool = defineTool({
    name: 'pay',
    description: 'Pay the order; the gateway never answers.',
    input: z.object({ order: z.string() }),
    run: (_input, { signal }) => {
      calls++;
      called(signal);
      return new Promise<never>(() => {});
    },
  });
  return { tool: tool as unknown as AnyTool, first, calls: () => calls };
}

const answering = defineTool({ name: 'pay', description: 'Pay.', input: z.object({ order: z.string() }), run: async ({ order }) => ({ paid: order }) }) as unknown as AnyTool;

const payWorkflow = (tool: AnyTool, step: Record<string, unknown> = {}, retry: Record<string, unknown> = { maxAttempts: 1 }) =>
  loadDefinitionFromObject(
    {
      id: 'interrupt',
      retry: { backoff: { initial: '1s', jitter: 0 }, ...retry },
      steps: { pay: { tool: 'pay', with: { order: 'A-1' }, ...step }, done: { final: true } },
    },
    [tool],
    'interrupt.test',
  );

function engineOn(store: Store, tools: AnyTool[], options: Partial<EngineOptions> = {}) {
  return createEngine({ store, tools, clock: new ManualClock(), model: { apiKey: 'unused' }, ...options });
}

describe('a tool step\'s timeout', () => {
  it('fails the attempt as timeout when the clock passes it, aborting the signal of a tool that never answers', async () => {
    const clock = new ManualClock();
    const pay = hangingTool();
    const engine = engineOn(sqlite(sqliteFile()), [pay.tool], { clock });
    const running = engine.start(payWorkflow(pay.tool, { timeout: '5s' }));
    const signal = await pay.first;
    clock.advance(4_999);
    expect(signal.aborted).toBe(false);
    clock.advance(1);
    const run = await running;
    expect(signal.aborted).toBe(true);
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'timeout', step: 'pay' } });
    expect(run.failure?.message).toMatch(/did not finish within its timeout of 5000 ms/);
    const failed = (await engine.journal(run.runId)).filter((e) => e.event === 'failed');
    expect(failed).toEqual([expect.objectContaining({ step: 'pay', error: expect.objectContaining({ kind: 'timeout' }), latencyMs: 5000 })]);
  });

  it('hands a tool that reads its signal only after the timeout a signal already aborted, with the reason', async () => {
    const clock = new ManualClock();
    let context!: ToolContext;
    let called!: () => void;
    const first = new Promise<void>((resolve) => (called = resolve));
    const late = defineTool({
      name: 'pay',
      description: 'Pay the order; looks at its signal only later.',
      input: z.object({ order: z.string() }),
      run: (_input, ctx) => {
        context = ctx; // the signal is not read here
        called();
        return new Promise<never>(() => {});
      },
    }) as unknown as AnyTool;
    const engine = engineOn(sqlite(sqliteFile()), [late], { clock });
    const running = engine.start(payWorkflow(late, { timeout: '5s' }));
    await first;
    clock.advance(5_000);
    expect((await running).failure?.kind).toBe('timeout');
    expect(context.signal.aborted).toBe(true);
    expect(String(context.signal.reason)).toMatch(/the step attempt ended: timeout/);
  });

  it('is retryable: every attempt times out, then retries_exhausted names it', async () => {
    const clock = new ManualClock({ autoAdvance: true });
    const slow = slowTool(answering, { ms: 60_000, clock });
    const engine = engineOn(sqlite(sqliteFile()), [slow], { clock });
    const run = await engine.start(payWorkflow(slow, { timeout: '10s' }, { maxAttempts: 3 }));
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'retries_exhausted', step: 'pay' } });
    expect(run.failure?.message).toMatch(/after 3 attempts; last: timeout/);
    expect(slow.calls()).toBe(3);
  });

  it('lets a step that finishes in time complete', async () => {
    const clock = new ManualClock({ autoAdvance: true });
    const slow = slowTool(answering, { ms: 9_000, clock });
    const engine = engineOn(sqlite(sqliteFile()), [slow], { clock });
    const run = await engine.start(payWorkflow(slow, { timeout: '10s' }));
    expect(run.status).toBe('done');
  });
});

describe('cancel interrupts a running step', () => {
  it('in the same engine: at once, without waiting for the tool or the lease', async () => {
    const pay = hangingTool();
    const engine = engineOn(sqlite(sqliteFile()), [pay.tool], { leaseWaitMs: 60_000 });
    const running = engine.start(payWorkflow(pay.tool));
    const signal = await pay.first;
    const cancelled = await engine.cancel((await engine.list())[0]!.runId, 'operator said stop');
    expect(cancelled).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', message: 'operator said stop' } });
    expect(signal.aborted).toBe(true);
    expect((await running).status).toBe('cancelled');
    const journal = await engine.journal(cancelled.runId);
    expect(journal.map((e) => e.event)).toEqual(['created', 'started', 'failed', 'cancelled']);
    expect(journal[2]?.error?.kind).toBe('cancelled');
    expect(pay.calls()).toBe(1);
  });

  const across = (name: string, stores: () => Promise<[Store, Store]>) =>
    it(`from another engine on the same ${name}: the driving engine sees the request and stops`, async () => {
      const [a, b] = await stores();
      const pay = hangingTool();
      const driver = engineOn(a, [pay.tool], { cancelPollMs: 20 });
      const canceller = engineOn(b, [], { leaseWaitMs: 60_000 });
      const running = driver.start(payWorkflow(pay.tool), { runId: `x-${randomBytes(4).toString('hex')}` });
      const signal = await pay.first;
      const runId = (await b.list())[0]!.id;
      expect((await b.get(runId))?.lease).not.toBeNull();
      const cancelled = await canceller.cancel(runId, 'from elsewhere');
      expect(cancelled).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', message: 'from elsewhere' } });
      expect(signal.aborted).toBe(true);
      expect((await running).status).toBe('cancelled');
      expect((await b.journal(runId)).filter((e) => e.event === 'cancelled')).toHaveLength(1);
      expect(await b.readShared(`cancel:${runId}`)).toBeNull();
    });

  across('SQLite file', async () => {
    const file = sqliteFile();
    return [sqlite(file), sqlite(file)];
  });
  across('PostgreSQL schema', postgresPair);

  it('from another engine on the same SQLite file: two runs the engine drives at once both stop (one poller for both)', async () => {
    const file = sqliteFile();
    const pay = hangingTool();
    const driver = engineOn(sqlite(file), [pay.tool], { cancelPollMs: 20 });
    const canceller = engineOn(sqlite(file), [], { leaseWaitMs: 60_000 });
    const first = driver.start(payWorkflow(pay.tool), { runId: 'both-1' });
    await pay.first;
    const second = driver.start(payWorkflow(pay.tool), { runId: 'both-2' });
    while (pay.calls() < 2) await new Promise<void>((resolve) => setImmediate(resolve));
    const cancelled = await Promise.all([canceller.cancel('both-1', 'stop one'), canceller.cancel('both-2', 'stop two')]);
    expect(cancelled.map((r) => [r.status, r.failure?.message])).toEqual([
      ['cancelled', 'stop one'],
      ['cancelled', 'stop two'],
    ]);
    expect((await first).status).toBe('cancelled');
    expect((await second).status).toBe('cancelled');
  });

  it('a cancel recorded while nobody drives the run is applied by the next drive', async () => {
    const file = sqliteFile();
    const store = sqlite(file);
    const pay = hangingTool();
    const engine = engineOn(store, [pay.tool]);
    const run = await engine.start(payWorkflow(pay.tool), { detach: true });
    await store.updateShared(`cancel:${run.runId}`, () => ({ reason: 'left behind', at: 0 }));
    const after = await engine.step(run.runId);
    expect(after).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', message: 'left behind' } });
    expect(pay.calls()).toBe(0);
  });
});
