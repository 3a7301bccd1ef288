/**
 * Leases, workers and lifecycle through the engine API, in one process: a
 * command waits for (or gives up on) a run another owner is driving; a worker
 * drains on abort and exits when idle; every engine shares one rate limit
 * through the store; cancel and prune.
 */
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { RATE_LIMIT_KEY } from '../../src/engine/rate-limiter.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { StepwiseError } from '../../src/errors.js';
import { createMemoryStore } from '../../src/store/memory.js';
import type { AnyTool } from '../../src/tools/define.js';
import { counterTools, durableDefinition, journalProblems } from './helpers.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ seed: 5 });
});
afterAll(() => emulator.close());

const model = () => ({ baseURL: emulator.url, apiKey: 'test' });

describe('engine leases', () => {
  it('a command gives up with run_busy while another owner holds the run, and proceeds once it is free', async () => {
    const store = createMemoryStore();
    const calls: string[] = [];
    const engine = createEngine({ store, model: model(), tools: counterTools(calls), leaseWaitMs: 100 });
    const run = await engine.start(durableDefinition(calls, { withWait: false }), { input: { order: 'L-1' }, detach: true });
    expect(await store.acquire(run.runId, 'someone-else', Date.now(), 60_000)).toBe(true);
    const error = await engine.step(run.runId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepwiseError);
    expect((error as StepwiseError).code).toBe('run_busy');
    expect(calls).toEqual([]);
    await store.release(run.runId, 'someone-else');
    expect((await engine.resume(run.runId)).status).toBe('done');
    expect((await store.get(run.runId))?.lease).toBeNull();
  });

  it('a worker claims detached runs, finishes them once each, and exits when idle', async () => {
    const store = createMemoryStore();
    const calls: string[] = [];
    const clock = new ManualClock();
    const engine = createEngine({ store, clock, model: model(), rateLimit: { requestsPerMinute: 1000 } });
    const definition = durableDefinition(calls, { withWait: false, failFirst: true });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await engine.start(definition, { input: { order: `W-${i}` }, detach: true })).runId);
    // Backoffs are due in clock time: move it along while the worker polls.
    const ticker = setInterval(() => clock.advance(250), 5);
    const summary = await engine.work({ concurrency: 3, pollMs: 5, exitWhenIdle: true }).finally(() => clearInterval(ticker));
    expect(summary.errors).toBe(0);
    for (const id of ids) {
      const view = await engine.get(id);
      expect(view.status, JSON.stringify(view.failure)).toBe('done');
      expect(journalProblems(await store.journal(id))).toEqual([]);
      expect((await store.get(id))?.lease).toBeNull();
    }
    // note once, charge twice (fails its first attempt), per run; no key twice.
    expect(calls).toHaveLength(18);
    expect(new Set(calls).size).toBe(18);
    const bucket = await store.updateShared<{ requests: number }>(RATE_LIMIT_KEY, (v) => v!);
    expect(bucket.requests).toBeLessThan(1000);
  });

  it('a worker takes over at once a run whose lease holder died on this host', async () => {
    const store = createMemoryStore();
    const calls: string[] = [];
    const engine = createEngine({ store, model: model() });
    const run = await engine.start(durableDefinition(calls, { withWait: false }), { input: { order: 'O-1' }, detach: true });
    const dead = `${hostname()}:${2 ** 22 + 1}:crashed`;
    expect(await store.acquire(run.runId, dead, Date.now(), 600_000)).toBe(true);
    expect(await store.acquire(run.runId, 'alive', Date.now(), 600_000)).toBe(false);
    const summary = await engine.work({ exitWhenIdle: true, pollMs: 5 });
    expect(summary.claimed).toBe(1);
    expect((await engine.get(run.runId)).status).toBe('done');
  });

  it('an aborted worker drains: the step in flight is committed, the lease released', async () => {
    const store = createMemoryStore();
    const calls: string[] = [];
    const drain = new AbortController();
    const tools: AnyTool[] = counterTools(calls).map(
      (t): AnyTool => (t.name === 'record_note' ? { ...(t as AnyTool), run: async (input, ctx) => (drain.abort(), (t as AnyTool).run(input, ctx)) } : t),
    );
    const engine = createEngine({ store, model: model() });
    const run = await engine.start(durableDefinition(calls, { withWait: false, tools }), { input: { order: 'D-1' }, detach: true });
    await engine.work({ signal: drain.signal, pollMs: 5 });
    const stored = await store.get(run.runId);
    expect(stored?.status).toBe('running');
    expect(stored?.lease).toBeNull();
    const journal = await store.journal(run.runId);
    expect(journal.filter((e) => e.event === 'completed').map((e) => e.step)).toEqual(['note']);
    expect(calls).toHaveLength(1);
    // Another worker picks it up where it stopped.
    await engine.work({ exitWhenIdle: true, pollMs: 5 });
    expect((await engine.get(run.runId)).status).toBe('done');
    expect(calls.filter((k) => k.includes(':note:'))).toHaveLength(1);
  });

  it('cancel journals the cancellation; prune removes finished runs older than a duration', async () => {
    const store = createMemoryStore();
    const calls: string[] = [];
    const engine = createEngine({ store, model: model(), tools: counterTools(calls) });
    const waiting = await engine.start(durableDefinition(calls), { input: { order: 'C-1' } });
    expect(waiting.status).toBe('waiting');
    const cancelled = await engine.cancel(waiting.runId, 'customer withdrew');
    expect(cancelled.status).toBe('cancelled');
    expect((await store.journal(waiting.runId)).some((e) => e.event === 'cancelled')).toBe(true);
    const active = await engine.start(durableDefinition(calls), { input: { order: 'C-2' } });
    expect(await engine.prune({ olderThanMs: 60_000 })).toBe(0);
    expect(await engine.prune({ olderThanMs: 0, statuses: ['done'] })).toBe(0);
    await new Promise((done) => setTimeout(done, 5));
    expect(await engine.prune({ olderThanMs: 1 })).toBe(1);
    expect(await store.get(waiting.runId)).toBeNull();
    expect(await store.get(active.runId)).not.toBeNull();
  });
});
