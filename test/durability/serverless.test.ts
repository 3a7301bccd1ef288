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
import { counterTools, durableDefinition, journalProblems } from './helpers.js';

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
});
