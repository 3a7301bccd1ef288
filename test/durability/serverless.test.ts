/**
 * The serverless example: each invocation of the handler is a cold start (new
 * store connection, new engine) that advances the run by one step. The run
 * finishes after as many invocations as it has work steps plus its backoff
 * waits, each tool side effect happening once per attempt. The handler's clock
 * is a manual one, so the retry backoff passes without the test sleeping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handle, type StepReply } from '../../examples/serverless/handler.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { openStore } from '../../src/store/open.js';
import { loadDefinition, loadDefinitionFromObject } from '../../src/definition/load.js';
import { counterTools, durableDefinition, durableWorkflow, journalProblems } from './helpers.js';

let emulator: Emulator;
const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-serverless-'));
beforeAll(async () => {
  emulator = await startEmulator({ seed: 9 });
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('serverless handler (examples/serverless)', () => {
  it('drives a run to done one step per invocation, and an invocation during a backoff runs nothing', async () => {
    const spec = `sqlite:${path.join(dir, 'fn.db')}`;
    const calls: string[] = [];
    const model = { baseURL: emulator.url, apiKey: 'test' };
    // The platform's time: the backoff passes when the test says so, never by sleeping.
    const clock = new ManualClock();
    const definition = durableDefinition(calls, { withWait: false }); // charge retries after a 1 s backoff
    const store = await openStore(spec);
    const run = await createEngine({ store, model, clock }).start(definition, { input: { order: 'S-1' }, detach: true });
    await store.close();
    const tools = counterTools(calls, { failFirst: true });
    const invoke = () => handle({ runId: run.runId }, { store: spec, model, tools, clock });

    const replies: StepReply[] = [];
    let early: StepReply | null = null;
    for (let i = 0; i < 20; i++) {
      const reply = await invoke();
      replies.push(reply);
      if (!reply.again) break;
      if (reply.delayMs > 0) {
        // Re-invoked before the backoff is over (a queue redelivery): nothing runs, the wait stays as it was.
        const before = calls.length;
        early = await invoke();
        expect(calls).toHaveLength(before);
        clock.advance(reply.delayMs);
      }
    }
    const last = replies[replies.length - 1]!;
    expect(last.status).toBe('done');
    const waits = replies.filter((r) => r.delayMs > 0);
    expect(waits.map((r) => r.delayMs)).toEqual([1000]);
    expect(early).toMatchObject({ status: 'running', again: true, delayMs: 1000 });
    // note, charge (fails once, retried), then the final step: never more than one step per call.
    expect(calls).toEqual([`${run.runId}:note:1:1`, `${run.runId}:charge:1:1`, `${run.runId}:charge:1:2`]);
    expect(replies.length).toBeGreaterThanOrEqual(3);
    const check = await openStore(spec);
    const journal = await check.journal(run.runId);
    await check.close();
    expect(journalProblems(journal)).toEqual([]);
    const retried = journal.find((e) => e.event === 'retry_scheduled');
    const second = journal.find((e) => e.event === 'started' && e.step === 'charge' && e.attempt === 2);
    // The second attempt started on the clock's time, exactly when the backoff ended.
    expect(second?.at).toBe((retried?.data as { retryAt: number }).retryAt);
  });

  it('drives a map step by step: each invocation runs one step of at most maxConcurrency items, a backoff inside an item is waited out by the platform, the journals stay whole', async () => {
    const spec = `sqlite:${path.join(dir, 'map.db')}`;
    const calls: string[] = [];
    const model = { baseURL: emulator.url, apiKey: 'test' };
    const clock = new ManualClock();
    const tools = counterTools(calls, { failFirst: true });
    const workflow = {
      id: 'orders',
      retry: durableWorkflow.retry,
      breaker: false,
      steps: {
        each: { map: { items: '{% $input.orders %}', as: 'order', maxConcurrency: 2, steps: { charge: { tool: 'charge', with: { order: '{% $input.order %}' } } } }, next: 'done' },
        done: { final: true, output: '{% $steps.each.output %}' },
      },
    };
    const definition = loadDefinitionFromObject(workflow, tools, 'orders');
    const store = await openStore(spec);
    const run = await createEngine({ store, model, clock, tools }).start(definition, { input: { orders: ['A', 'B', 'C'] }, detach: true });
    await store.close();
    const invoke = () => handle({ runId: run.runId }, { store: spec, model, tools, clock });
    const replies: StepReply[] = [];
    let early: StepReply | null = null;
    for (let i = 0; i < 40; i++) {
      const before = calls.length;
      const reply = await invoke();
      replies.push(reply);
      // One step of at most maxConcurrency (2) items per invocation.
      expect(calls.length - before).toBeLessThanOrEqual(2);
      if (!reply.again) break;
      if (reply.delayMs > 0) {
        const waiting = calls.length;
        early = await invoke();
        expect(calls).toHaveLength(waiting);
        clock.advance(reply.delayMs);
      }
    }
    const last = replies[replies.length - 1]!;
    expect(last.status).toBe('done');
    expect(early).toMatchObject({ status: 'running', again: true });
    // Every item's charge failed once and succeeded on its second attempt, each attempt once.
    expect(calls.filter((c) => c.endsWith(':charge:1:1'))).toHaveLength(3);
    expect(calls.filter((c) => c.endsWith(':charge:1:2'))).toHaveLength(3);
    expect(new Set(calls).size).toBe(calls.length);
    const check = await openStore(spec);
    try {
      expect((await check.get(run.runId))?.output).toEqual([{ charged: 'A' }, { charged: 'B' }, { charged: 'C' }]);
      expect(journalProblems(await check.journal(run.runId))).toEqual([]);
      const items = await check.list({ parentId: run.runId });
      expect(items).toHaveLength(3);
      for (const item of items) {
        expect(item.status).toBe('done');
        expect(journalProblems(await check.journal(item.id))).toEqual([]);
      }
    } finally {
      await check.close();
    }
  });

  it('drives a workflow child step by step: one work step of the child per invocation; the child waits, the parent says so, and an event sent to the parent reaches it', async () => {
    const spec = `sqlite:${path.join(dir, 'child.db')}`;
    const model = { baseURL: emulator.url, apiKey: 'test' };
    const clock = new ManualClock();
    const definition = await loadDefinition(path.join(import.meta.dirname, '../../definitions/invoice-intake.yaml'));
    const input = { document: 'INVOICE\nInvoice Number: INV-7\nVendor: Acme Industrial Supply\nVendor ID: V-1001\nTotal: 12,500.00\nCurrency: USD\n' };
    const store = await openStore(spec);
    const run = await createEngine({ store, model, clock }).start(definition, { input, detach: true });
    await store.close();
    const invoke = () => handle({ runId: run.runId }, { store: spec, model, clock });
    const until = async (stop: (r: StepReply) => boolean) => {
      const replies: StepReply[] = [];
      for (let i = 0; i < 40; i++) {
        const reply = await invoke();
        replies.push(reply);
        if (stop(reply) || !reply.again) break;
        if (reply.delayMs > 0) clock.advance(reply.delayMs);
      }
      return replies;
    };
    const first = await until(() => false);
    const child = async () => {
      const s = await openStore(spec);
      try {
        return (await s.list({ parentId: run.runId }))[0]!;
      } finally {
        await s.close();
      }
    };
    // One work step of the child per invocation: extract (the model), then validate (a tool), after which the child
    // routes to the CFO's approval and waits; the parent says it waits, so the platform stops invoking.
    expect(first.map((r) => [r.status, r.again])).toEqual([
      ['running', true],
      ['waiting', false],
    ]);
    expect((await child()).status).toBe('waiting');
    const sender = await openStore(spec);
    try {
      await createEngine({ store: sender, model, clock }).send(run.runId, 'APPROVE', { by: 'cfo' });
    } finally {
      await sender.close();
    }
    await until(() => false);
    const s = await openStore(spec);
    try {
      const parent = await s.get(run.runId);
      expect(parent?.status).toBe('done');
      expect((await child()).status).toBe('done');
      expect(journalProblems(await s.journal(run.runId))).toEqual([]);
      expect(journalProblems(await s.journal((await child()).id))).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
