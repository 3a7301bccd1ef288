/**
 * Persisted timers: a retry backoff and a wait timeout are stored as the run's
 * `wakeAt` and fire at the right time after a restart (a new engine on the same
 * SQLite file), not from zero and not never. Time is a ManualClock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { counterTools, durableDefinition, journalProblems } from './helpers.js';

let emulator: Emulator;
const root = mkdtempSync(join(tmpdir(), 'stepwise-timers-'));
beforeAll(async () => {
  emulator = await startEmulator({ seed: 3 });
});
afterAll(async () => {
  await emulator.close();
  rmSync(root, { recursive: true, force: true });
});

/** An engine on the SQLite file, as a fresh process would have it; code-defined tools are the engine's. */
function boot(path: string, clock: ManualClock, calls: string[]) {
  const store = createSqliteStore({ path });
  const tools = counterTools(calls, { failFirst: true });
  return { store, engine: createEngine({ store, clock, tools, model: { baseURL: emulator.url, apiKey: 'test' } }) };
}

describe('persisted timers', () => {
  it('a retry backoff fires at its stored due time after a restart', async () => {
    const path = join(root, 'backoff.db');
    const clock = new ManualClock();
    const calls: string[] = [];
    const definition = durableDefinition(calls, { failFirst: true, withWait: false });
    const first = boot(path, clock, calls);
    const run = await first.engine.start(definition, { input: { order: 'A-1' }, detach: true });
    for (let i = 0; i < 5; i++) await first.engine.step(run.runId);
    const stored = await first.store.get(run.runId);
    expect(stored?.status).toBe('running');
    const scheduled = (await first.store.journal(run.runId)).find((e) => e.event === 'retry_scheduled');
    expect(scheduled?.data).toMatchObject({ delayMs: 1000 });
    expect(stored?.wakeAt).toBe((scheduled?.data as { retryAt: number }).retryAt);
    expect(stored?.wakeAt).toBe(clock.now() + 1000);
    await first.store.close();

    // A new process: not due yet, nothing runs and nothing is claimable.
    const second = boot(path, clock, calls);
    clock.advance(999);
    expect(await second.store.claim({ owner: 'w', now: clock.now(), leaseMs: 1000, limit: 5 })).toEqual([]);
    await second.engine.step(run.runId);
    expect(calls.filter((k) => k.includes(':charge:'))).toHaveLength(1);
    clock.advance(1);
    const view = await second.engine.step(run.runId);
    expect(view.status).toBe('done');
    expect(calls.filter((k) => k.includes(':charge:'))).toEqual([`${run.runId}:charge:1:1`, `${run.runId}:charge:1:2`]);
    expect(journalProblems(await second.store.journal(run.runId))).toEqual([]);
    await second.store.close();
  });

  it('a wait timeout fires at enteredAt + timeout after a restart, not before', async () => {
    const path = join(root, 'wait.db');
    const clock = new ManualClock();
    const calls: string[] = [];
    const first = boot(path, clock, calls);
    const run = await first.engine.start(durableDefinition(calls), { input: { order: 'B-2' } });
    expect(run.status).toBe('waiting');
    const enteredAt = clock.now();
    expect(run.waitingFor?.timeoutAt).toBe(enteredAt + 3_600_000);
    expect((await first.store.get(run.runId))?.wakeAt).toBe(enteredAt + 3_600_000);
    await first.store.close();

    const second = boot(path, clock, calls);
    clock.advance(3_599_999);
    expect((await second.engine.resume(run.runId)).status).toBe('waiting');
    expect(await second.store.claim({ owner: 'w', now: clock.now(), leaseMs: 1000, limit: 5 })).toEqual([]);
    clock.advance(1);
    // A worker picks the due timer up.
    const summary = await second.engine.work({ exitWhenIdle: true, pollMs: 5 });
    expect(summary.claimed).toBe(1);
    const done = await second.engine.get(run.runId);
    expect(done.status).toBe('done');
    expect(done.output).toEqual({ status: 'expired' });
    const journal = await second.store.journal(run.runId);
    expect(journal.find((e) => e.event === 'timeout')?.at).toBe(enteredAt + 3_600_000);
    expect(journalProblems(journal)).toEqual([]);
    await second.store.close();
  });
});
