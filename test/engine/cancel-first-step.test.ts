/**
 * A new run is stored by its first commit (its first step's start), not when `start` is called. A cancel that
 * comes before that commit still takes effect: a first model step that asks the model server for an exact count
 * (count_tokens, near the budget limit) stores the run before it waits, so a cancel from this engine or from another
 * one on the same store finds it and aborts the count; a cancel this engine gets for a run it is starting and has
 * not stored yet is told to the drive at once and applied once the run is stored. The model server is a real
 * node:http server the real SDK talks to; the store's create is held open where a test needs the window to last.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type EngineOptions } from '../../src/engine/engine.js';
import { RunNotFoundError } from '../../src/errors.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { definition, recordNote } from '../guards/helpers.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

function sqliteFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-cancel-first-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'runs.db');
}

function sqlite(file: string): Store {
  const store = createSqliteStore({ path: file });
  cleanups.push(() => store.close());
  return store;
}

/** A Messages API server whose count_tokens answers its headers, then never its body; `counting` resolves when a count arrives, with its connection's close. */
async function stallingCounts(): Promise<{ url: string; seen: string[]; counting: Promise<{ closed: Promise<void> }> }> {
  const seen: string[] = [];
  let arrived!: (value: { closed: Promise<void> }) => void;
  const counting = new Promise<{ closed: Promise<void> }>((resolve) => (arrived = resolve));
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      seen.push(path);
      if (path !== '/v1/messages/count_tokens') {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'not here' } }));
        return;
      }
      const closed = new Promise<void>((resolve) => res.on('close', () => resolve()));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"input_tokens":');
      arrived({ closed });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, counting };
}

/** One model step whose max_tokens of 2,000 brings a new run within 15 % of its 2,300-token limit: it is counted first. */
const countedFirst = () =>
  definition(
    {
      id: 'counted-first',
      retry: { maxAttempts: 1 },
      budget: { tokens: 2300, stopAt: 1 },
      steps: { first: { claude: { tool: 'record_note', prompt: 'Record a note titled Intake about the case.', maxTokens: 2000 } }, done: { final: true } },
    },
    [recordNote],
  );

function engineOn(store: Store, url: string, options: Partial<EngineOptions> = {}) {
  return createEngine({ store, clock: new ManualClock(), tools: [recordNote], model: { baseURL: url, apiKey: 'x', maxRetries: 0, timeoutMs: 60_000 }, ...options });
}

describe('cancel while the first step of a new run asks count_tokens', () => {
  it('from the engine starting it: the count is aborted, the run ends cancelled, nothing is charged', async () => {
    const server = await stallingCounts();
    const store = sqlite(sqliteFile());
    const engine = engineOn(store, server.url, { leaseWaitMs: 60_000 });
    const running = engine.start(countedFirst(), { runId: 'first-1' });
    const { closed } = await server.counting;
    const cancelled = await engine.cancel('first-1', 'operator said stop');
    expect(cancelled).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', message: 'operator said stop' }, usage: { totalTokens: 0 } });
    expect((await running).status).toBe('cancelled');
    await closed; // the count request was aborted, not left to run
    expect(server.seen).toEqual(['/v1/messages/count_tokens']); // no message was sent
    expect((await engine.journal('first-1')).map((e) => e.event)).toEqual(['created', 'cancelled']);
    expect(await store.readShared('cancel:first-1')).toBeNull();
  });

  it('from another engine on the same SQLite file (as `stepwise cancel` from another process): the driving engine sees it', async () => {
    const server = await stallingCounts();
    const file = sqliteFile();
    const driver = engineOn(sqlite(file), server.url, { cancelPollMs: 20 });
    const other = sqlite(file);
    const canceller = engineOn(other, server.url, { leaseWaitMs: 60_000 });
    const running = driver.start(countedFirst(), { runId: 'first-2' });
    const { closed } = await server.counting;
    expect((await other.get('first-2'))?.lease).not.toBeNull(); // stored, under the starting engine's lease
    const cancelled = await canceller.cancel('first-2', 'from elsewhere');
    expect(cancelled).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', message: 'from elsewhere' }, usage: { totalTokens: 0 } });
    expect((await running).status).toBe('cancelled');
    await closed;
    expect(server.seen).toEqual(['/v1/messages/count_tokens']);
    expect((await other.journal('first-2')).map((e) => e.event)).toEqual(['created', 'cancelled']);
    expect(await other.readShared('cancel:first-2')).toBeNull();
  });
});

describe('storing a new run before its first step counts', () => {
  it('a run another start made meanwhile is that start\'s answer: the count is not asked, the other run is left as it is', async () => {
    const server = await stallingCounts();
    const file = sqliteFile();
    const held = heldCreates(sqlite(file));
    const first = engineOn(held.store, server.url);
    const other = sqlite(file);
    const second = engineOn(other, server.url);
    const running = first.start(countedFirst(), { runId: 'twice-1' });
    await held.creating;
    const made = await second.start(countedFirst(), { runId: 'twice-1', detach: true });
    const before = await other.get('twice-1');
    held.open();
    const answer = await running;
    expect(answer).toMatchObject({ runId: 'twice-1', status: 'running', createdAt: made.createdAt });
    expect(server.seen).toEqual([]);
    expect((await other.journal('twice-1')).map((e) => e.event)).toEqual(['created']);
    expect((await other.get('twice-1'))?.revision).toBe(before?.revision);
  });
  it('a store that fails to store it fails the start with the store\'s error, not the step: the count is not asked', async () => {
    const server = await stallingCounts();
    const held = heldCreates(sqlite(sqliteFile()));
    const engine = engineOn(held.store, server.url);
    const running = engine.start(countedFirst(), { runId: 'full-1' });
    await held.creating;
    held.fail(new Error('the disk is full'));
    await expect(running).rejects.toThrow('the disk is full');
    expect(server.seen).toEqual([]);
    expect(await held.store.get('full-1')).toBeNull();
  });
});

/** A tool that records its calls and never answers. */
function hangingPay() {
  let calls = 0;
  const tool = defineTool({
    name: 'pay',
    description: 'Pay the order; the gateway never answers.',
    input: z.object({ order: z.string() }),
    run: () => {
      calls++;
      return new Promise<never>(() => {});
    },
  }) as unknown as AnyTool;
  return { tool, calls: () => calls };
}

const payFirst = (tool: AnyTool) =>
  loadDefinitionFromObject({ id: 'pay-first', retry: { maxAttempts: 1 }, steps: { pay: { tool: 'pay', with: { order: 'A-1' } }, done: { final: true } } }, [tool], 'cancel-first.test');

/**
 * A SQLite store whose `create` (a new run's first commit) waits until `open()` (or fails, with `fail`), as a slow
 * store round trip would; `creating` resolves when a create comes, `cancelWritten` when a cancel request is written.
 */
function heldCreates(store: Store) {
  let reached!: () => void;
  const creating = new Promise<void>((resolve) => (reached = resolve));
  let open!: (error?: Error) => void;
  const gate = new Promise<Error | undefined>((resolve) => (open = resolve));
  let requested!: () => void;
  const cancelWritten = new Promise<void>((resolve) => (requested = resolve));
  const held: Store = Object.assign(Object.create(store) as Store, {
    async create(...args: Parameters<Store['create']>) {
      reached();
      const error = await gate;
      if (error) throw error;
      return store.create(...args);
    },
    async updateShared(...args: Parameters<Store['updateShared']>) {
      const result = await store.updateShared(...args);
      if (String(args[0]).startsWith('cancel:')) requested();
      return result;
    },
  });
  return { store: held, creating, open: () => open(), fail: (error: Error) => open(error), cancelWritten };
}

describe('cancel of a run this engine is starting, before its first commit stores it', () => {
  it('is told to the drive at once and applied once the run is stored: the step never runs', async () => {
    const pay = hangingPay();
    const held = heldCreates(sqlite(sqliteFile()));
    const engine = createEngine({ store: held.store, clock: new ManualClock(), tools: [pay.tool], model: { apiKey: 'unused' }, leaseWaitMs: 60_000 });
    const running = engine.start(payFirst(pay.tool), { runId: 'early-1' });
    await held.creating;
    const cancelling = engine.cancel('early-1', 'not that order');
    await Promise.race([held.cancelWritten, cancelling]); // a cancel refused at once fails here
    held.open();
    const cancelled = await cancelling;
    expect(cancelled).toMatchObject({ runId: 'early-1', status: 'cancelled', failure: { kind: 'cancelled', message: 'not that order' } });
    expect((await running).status).toBe('cancelled');
    expect(pay.calls()).toBe(0);
    expect((await engine.journal('early-1')).map((e) => e.event)).toEqual(['created', 'started', 'cancelled']);
    expect(await held.store.readShared('cancel:early-1')).toBeNull();
  });

  it('a start that fails before storing the run answers the cancel run_not_found, and leaves no request behind', async () => {
    const pay = hangingPay();
    const held = heldCreates(sqlite(sqliteFile()));
    const engine = createEngine({ store: held.store, clock: new ManualClock(), tools: [pay.tool], model: { apiKey: 'unused' } });
    const running = engine.start(payFirst(pay.tool), { runId: 'early-2' });
    await held.creating;
    const cancelling = engine.cancel('early-2');
    await Promise.race([held.cancelWritten, cancelling]); // a cancel refused at once fails here
    held.fail(new Error('the disk is full'));
    await expect(running).rejects.toThrow(/the disk is full/);
    await expect(cancelling).rejects.toBeInstanceOf(RunNotFoundError);
    expect(await held.store.readShared('cancel:early-2')).toBeNull();
    expect(pay.calls()).toBe(0);
  });

  it('an id no run has and no start is making is still run_not_found', async () => {
    const engine = createEngine({ store: sqlite(sqliteFile()), clock: new ManualClock(), model: { apiKey: 'unused' } });
    await expect(engine.cancel('nobody')).rejects.toBeInstanceOf(RunNotFoundError);
    expect(await engine.store.readShared('cancel:nobody')).toBeNull();
  });
});
