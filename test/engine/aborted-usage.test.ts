/**
 * A model call answered while its step is being aborted (found by outside testing): the reply was billed, so its
 * usage is charged to the run and journaled, however the attempt ends (a cancel, a sibling branch's failure, the
 * drive of a map item stopped under it, an engine error), a redrive keeps it and a rerun replays it. A hand-written Messages API server answers through the real SDK, the
 * real engine drives the run on a memory store with a manual clock; a tool that holds its attempt open until it
 * is aborted gives the cancel (or the failure) a moment after the reply, without waiting in real time. A reply whose
 * 200 headers came but whose body stalls is charged too when the abort comes while its body is still arriving: the
 * client's fetch is watched to abort right after the headers reached it.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { rerun } from '../../src/engine/rerun.js';
import { createMemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/types.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';
import type { JournalEntry, Usage } from '../../src/run/types.js';
import { definition } from '../guards/helpers.js';

const servers: Server[] = [];
const restores: Array<() => void> = [];
afterEach(async () => {
  for (const restore of restores.splice(0)) restore();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** What one reply of the server bills: 40 input and 10 output tokens. */
const BILLED = { input_tokens: 40, output_tokens: 10 };
const PER_REPLY = BILLED.input_tokens + BILLED.output_tokens;

/**
 * A Messages API server: the n-th request (from 0) is answered by `answer(n)`, which returns the reply's
 * `stop_reason` (a `tool_use` filling the step's tool, or `pause_turn`), or null to leave the request unanswered.
 */
async function serve(answer: (n: number) => 'tool_use' | 'pause_turn' | 'stall' | null): Promise<{ url: string; requests: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { model?: string; tools?: Array<{ name: string }> };
      const stop = answer(n++);
      if (stop === null) return; // never answered: the client aborts it
      if (stop === 'stall') {
        // A success status and the start of a body that never ends.
        res.writeHead(200, { 'content-type': 'application/json' }).write('{"id":"msg_1","type":"message",');
        return;
      }
      reply(res, body.model ?? 'claude-sonnet-4-6', body.tools?.[0]?.name ?? 'slow_note', stop);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => n };
}

function reply(res: ServerResponse, model: string, tool: string, stop: 'tool_use' | 'pause_turn'): void {
  const content = stop === 'tool_use' ? [{ type: 'tool_use', id: 'toolu_1', name: tool, input: { title: 'Intake', note: 'opened' } }] : [{ type: 'text', text: 'thinking…' }];
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model, content, stop_reason: stop, stop_sequence: null, usage: BILLED }));
}

/** A tool that says when it runs and, on its first call, holds its attempt open until its signal is aborted. */
function holdingTool() {
  let entered: () => void = () => {};
  const running = new Promise<void>((resolve) => (entered = resolve));
  let calls = 0;
  const tool = defineTool({
    name: 'slow_note',
    description: 'Record a note (slowly).',
    input: z.object({ title: z.string(), note: z.string() }),
    run: (_input, { signal }) =>
      new Promise((resolve) => {
        entered();
        if (++calls > 1) resolve({ saved: true });
        signal.addEventListener('abort', () => resolve({ saved: false }), { once: true });
      }),
  });
  return { tool, running };
}

/**
 * Resolves once a reply's headers have reached the client (the SDK's fetch returned; made before the engine, whose
 * client takes the global fetch) and what follows at once has run: the SDK is then reading the body.
 */
function headersArrived(): Promise<void> {
  const real = globalThis.fetch;
  let arrived: () => void = () => {};
  const headers = new Promise<void>((resolve) => (arrived = resolve));
  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const response = await real(input, init);
    arrived();
    return response;
  });
  restores.push(() => spy.mockRestore());
  return headers.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
}

/** A tool step's tool that fails once `after` has happened (a sibling branch's failure at a chosen moment). */
function failingAfter(after: Promise<unknown>) {
  return defineTool({
    name: 'boom',
    description: 'Fails.',
    input: z.object({}),
    run: async () => {
      await after;
      throw new Error('the vendor API is down');
    },
  });
}

/** A tool whose first call fails once `after` has happened, and later calls succeed. */
function failingOnceAfter(after: Promise<unknown>) {
  let calls = 0;
  return defineTool({
    name: 'price',
    description: 'Prices a line.',
    input: z.object({ line: z.number() }),
    run: async ({ line }) => {
      if (++calls > 1) return { total: line * 10 };
      await after;
      throw new Error('the price list is down');
    },
  });
}

function engineOn(url: string, tools: readonly AnyTool[], store: Store = createMemoryStore()): Engine {
  return createEngine({
    store,
    clock: new ManualClock({ autoAdvance: true }),
    tools,
    model: { baseURL: url, apiKey: 'x', maxRetries: 0, timeoutMs: 60_000 },
  });
}

const journalSum = (journal: readonly JournalEntry[]): number => journal.reduce((t, e) => t + (e.usage?.totalTokens ?? 0), 0);
const billed = (replies: number): Partial<Usage> => ({ inputTokens: BILLED.input_tokens * replies, outputTokens: BILLED.output_tokens * replies, totalTokens: PER_REPLY * replies });

const note = { claude: { tool: 'slow_note', prompt: 'Record a note about the case.', maxTokens: 100 }, retry: { maxAttempts: 1 } };

describe('a model reply that came before its step was aborted is charged', () => {
  it('cancel while the tool runs after the reply: the reply is charged to the run and journaled', async () => {
    const server = await serve(() => 'tool_use');
    const { tool, running } = holdingTool();
    const engine = engineOn(server.url, [tool]);
    const started = engine.start(definition({ id: 'cancel-after-reply', steps: { write: note, done: { final: true } } }, [tool]), { runId: 'cancel-after-reply' });
    await running;
    await engine.cancel('cancel-after-reply', 'operator said stop');
    const run = await started;
    expect(run.status).toBe('cancelled');
    expect(run.usage).toMatchObject(billed(1));
    const journal = await engine.journal(run.runId);
    expect(journalSum(journal)).toBe(run.usage.totalTokens);
    expect(journal.find((e) => e.step === 'write' && e.event === 'failed')).toMatchObject({ error: { kind: 'cancelled' }, usage: billed(1) });
  });

  it('cancel while a pause_turn continuation is in flight: the paused reply is charged, the unanswered request is not', async () => {
    // The first reply pauses its turn (billed); the continuation is never answered.
    const server = await serve((n) => (n === 0 ? 'pause_turn' : null));
    const { tool } = holdingTool();
    const engine = engineOn(server.url, [tool]);
    const started = engine.start(definition({ id: 'cancel-mid-turn', steps: { write: note, done: { final: true } } }, [tool]), { runId: 'cancel-mid-turn' });
    while (server.requests() < 2) await new Promise((resolve) => setImmediate(resolve));
    await engine.cancel('cancel-mid-turn', 'operator said stop');
    const run = await started;
    expect(run.status).toBe('cancelled');
    expect(run.usage).toMatchObject(billed(1));
    expect(journalSum(await engine.journal(run.runId))).toBe(run.usage.totalTokens);
  });

  it("a sibling branch's failure (fail_fast) aborts the step after its reply: the reply is charged, and a rerun past it counts it", async () => {
    const server = await serve(() => 'tool_use');
    const { tool, running } = holdingTool();
    const boom = failingAfter(running);
    const engine = engineOn(server.url, [tool, boom]);
    const def = definition(
      {
        id: 'fail-fast-after-reply',
        steps: {
          both: {
            parallel: { branches: { a: { steps: { write: note } }, b: { steps: { vendor: { tool: 'boom', retry: { maxAttempts: 1 } } } } } },
            onError: 'handled',
          },
          handled: { final: true, output: 'handled' },
        },
      },
      [tool, boom],
    );
    const run = await engine.start(def);
    expect(run.status).toBe('done');
    expect(run.usage).toMatchObject(billed(1));
    const journal = await engine.journal(run.runId);
    expect(journalSum(journal)).toBe(run.usage.totalTokens);
    expect(journal.find((e) => e.step === 'write' && e.event === 'failed')).toMatchObject({ error: { kind: 'cancelled' }, usage: billed(1) });
    // Replayed to the step after the parallel one, the aborted attempt's charge is counted as the original counted it.
    const again = await rerun(engine, run.runId, 'handled');
    expect(again.usage).toMatchObject(billed(1));
  });

  it("a map item stopped mid-step by a sibling branch's failure: what its call was billed reaches the run and its journal", async () => {
    const server = await serve(() => 'tool_use');
    const { tool, running } = holdingTool();
    const boom = failingAfter(running);
    const engine = engineOn(server.url, [tool, boom]);
    const def = definition(
      {
        id: 'item-stopped-after-reply',
        steps: {
          both: {
            parallel: {
              branches: {
                a: { steps: { each: { map: { items: '{% $input.lines %}', steps: { write: note } } } } },
                b: { steps: { vendor: { tool: 'boom', retry: { maxAttempts: 1 } } } },
              },
            },
          },
          done: { final: true },
        },
      },
      [tool, boom],
    );
    const run = await engine.start(def, { input: { lines: [1] } });
    expect(run.status).toBe('failed');
    expect(run.usage).toMatchObject(billed(1));
    expect(journalSum(await engine.journal(run.runId))).toBe(run.usage.totalTokens);
    const [item] = await engine.store.list({ parentId: run.runId });
    expect(item!.usage).toMatchObject(billed(1));
    expect(journalSum(await engine.journal(item!.id))).toBe(item!.usage.totalTokens);
  });

  it("a redrive from the checkpoint of a map that failed in a branch keeps the charge of the sibling attempt it aborted after its reply", async () => {
    const server = await serve(() => 'tool_use');
    const { tool, running } = holdingTool();
    const price = failingOnceAfter(running);
    const engine = engineOn(server.url, [tool, price]);
    const def = definition(
      {
        id: 'redrive-after-aborted-reply',
        steps: {
          both: {
            parallel: {
              branches: {
                a: { steps: { write: note } },
                b: { steps: { each: { map: { items: '{% $input.lines %}', steps: { priced: { tool: 'price', with: { line: '{% $input.item %}' }, retry: { maxAttempts: 1 } } } } } } },
              },
            },
          },
          done: { final: true },
        },
      },
      [tool, price],
    );
    const failed = await engine.start(def, { input: { lines: [1] } });
    expect(failed.status).toBe('failed');
    expect(failed.usage).toMatchObject(billed(1));
    // The item runs again and the aborted attempt of `write` runs again: a second reply, both billed.
    const redriven = await engine.redrive(failed.runId);
    expect(redriven.status).toBe('done');
    expect(redriven.usage).toMatchObject(billed(2));
    expect(journalSum(await engine.journal(failed.runId))).toBe(redriven.usage.totalTokens);
    // Replayed through the redrive, the run counts both replies too.
    const again = await rerun(engine, failed.runId, 'done');
    expect(again.usage).toMatchObject(billed(2));
  });

  it("an engine error after the reply (the store fails recording the tool's failure in its breaker) fails the attempt with the reply charged", async () => {
    const server = await serve(() => 'tool_use');
    const tool = defineTool({
      name: 'slow_note',
      description: 'Record a note (it fails).',
      input: z.object({ title: z.string(), note: z.string() }),
      run: () => {
        throw new Error('the notes service is down');
      },
    });
    const store = createMemoryStore();
    // The tool's failure is written to its breaker's state, after the model call: that write fails.
    const broken: Store = {
      ...store,
      updateShared: async (key, update) => {
        if (key.startsWith('breaker:')) throw new Error('disk I/O error while writing the breaker of slow_note');
        return store.updateShared(key, update);
      },
    };
    const engine = engineOn(server.url, [tool], broken);
    const run = await engine.start(definition({ id: 'engine-error-after-reply', steps: { write: note, done: { final: true } } }, [tool]));
    expect(run).toMatchObject({ status: 'failed', failure: { step: 'write' } });
    expect(run.usage).toMatchObject(billed(1));
    const journal = await engine.journal(run.runId);
    expect(journal.find((e) => e.step === 'write' && e.event === 'failed')).toMatchObject({ error: { kind: 'engine_error' }, usage: billed(1) });
    expect(journalSum(journal)).toBe(run.usage.totalTokens);
  });

  it('cancel of a run whose map item is mid-step after its reply: the reply is charged to the item and the run', async () => {
    const server = await serve(() => 'tool_use');
    const { tool, running } = holdingTool();
    const engine = engineOn(server.url, [tool]);
    const def = definition({ id: 'cancel-item-after-reply', steps: { each: { map: { items: '{% $input.lines %}', steps: { write: note } } }, done: { final: true } } }, [tool]);
    const started = engine.start(def, { input: { lines: [1] }, runId: 'cancel-item-after-reply' });
    await running;
    await engine.cancel('cancel-item-after-reply', 'operator said stop');
    const run = await started;
    expect((await engine.get(run.runId)).status).toBe('cancelled');
    const [item] = await engine.store.list({ parentId: run.runId });
    expect(item!.usage).toMatchObject(billed(1));
    expect(journalSum(await engine.journal(item!.id))).toBe(item!.usage.totalTokens);
    const parent = await engine.get(run.runId);
    expect(parent.usage).toMatchObject(billed(1));
    expect(journalSum(await engine.journal(run.runId))).toBe(parent.usage.totalTokens);
  });
  it('cancel while a reply\'s body is still arriving after its 200: it is charged as a reply without usage, and journaled', async () => {
    const server = await serve(() => 'stall');
    const arrived = headersArrived();
    const { tool } = holdingTool();
    const engine = engineOn(server.url, [tool]);
    const started = engine.start(definition({ id: 'cancel-mid-body', steps: { write: note, done: { final: true } } }, [tool]), { runId: 'cancel-mid-body' });
    await arrived;
    await engine.cancel('cancel-mid-body', 'operator said stop');
    const run = await started;
    expect(run.status).toBe('cancelled');
    // Its local input count and its max_tokens: the server made the reply and bills it.
    expect(run.usage.outputTokens).toBe(note.claude.maxTokens);
    expect(run.usage.inputTokens).toBeGreaterThan(0);
    const journal = await engine.journal(run.runId);
    expect(journal.find((e) => e.step === 'write' && e.event === 'failed')).toMatchObject({ error: { kind: 'cancelled' }, usage: run.usage });
    expect(journalSum(journal)).toBe(run.usage.totalTokens);
  });

  it("a sibling branch's failure (fail_fast) while a reply's body is still arriving after its 200: it is charged and journaled", async () => {
    const server = await serve(() => 'stall');
    const arrived = headersArrived();
    const { tool } = holdingTool();
    const boom = failingAfter(arrived);
    const engine = engineOn(server.url, [tool, boom]);
    const def = definition(
      {
        id: 'fail-fast-mid-body',
        steps: {
          both: {
            parallel: { branches: { a: { steps: { write: note } }, b: { steps: { vendor: { tool: 'boom', retry: { maxAttempts: 1 } } } } } },
            onError: 'handled',
          },
          handled: { final: true, output: 'handled' },
        },
      },
      [tool, boom],
    );
    const run = await engine.start(def);
    expect(run.status).toBe('done');
    expect(run.usage.outputTokens).toBe(note.claude.maxTokens);
    expect(run.usage.inputTokens).toBeGreaterThan(0);
    const journal = await engine.journal(run.runId);
    expect(journal.find((e) => e.step === 'write' && e.event === 'failed')).toMatchObject({ error: { kind: 'cancelled' }, usage: run.usage });
    expect(journalSum(journal)).toBe(run.usage.totalTokens);
  });
});
