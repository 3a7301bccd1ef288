/**
 * The serverless example: each invocation of the handler is a cold start (new
 * store connection, new engine) that advances the run by one step. The run
 * finishes after as many invocations as it has work steps plus its backoff
 * waits, each tool side effect happening once per attempt.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handle, type StepReply } from '../../examples/serverless/handler.js';
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
  it('drives a run to done one step per invocation', async () => {
    const spec = `sqlite:${path.join(dir, 'fn.db')}`;
    const calls: string[] = [];
    const model = { baseURL: emulator.url, apiKey: 'test' };
    const definition = durableDefinition(calls, { withWait: false });
    const store = await openStore(spec);
    const run = await createEngine({ store, model }).start(
      { ...definition, workflow: { ...definition.workflow, retry: { maxAttempts: 3, backoff: { initial: '20ms', jitter: 0 } } } },
      { input: { order: 'S-1' }, detach: true },
    );
    await store.close();
    const tools = counterTools(calls, { failFirst: true });

    const replies: StepReply[] = [];
    for (let i = 0; i < 20; i++) {
      const reply = await handle({ runId: run.runId }, { store: spec, model, tools });
      replies.push(reply);
      if (!reply.again) break;
      if (reply.delayMs > 0) await new Promise((done) => setTimeout(done, reply.delayMs));
    }
    const last = replies[replies.length - 1]!;
    expect(last.status).toBe('done');
    expect(replies.some((r) => r.delayMs > 0)).toBe(true);
    // note, charge (fails once, retried), then the final step: never more than one step per call.
    expect(calls).toEqual([`${run.runId}:note:1:1`, `${run.runId}:charge:1:1`, `${run.runId}:charge:1:2`]);
    expect(replies.length).toBeGreaterThanOrEqual(3);
    const check = await openStore(spec);
    expect(journalProblems(await check.journal(run.runId))).toEqual([]);
    await check.close();
  });
});
