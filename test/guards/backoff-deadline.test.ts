/**
 * Retries and deadlines across time: a backoff persisted in SQLite survives a
 * restart and the new engine waits only the remainder; a workflow deadline
 * ends a run `failed` with kind `deadline`. No test sleeps: clocks are manual.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';
import { failingTool, slowTool } from '../../src/testing/tool-faults.js';
import { definition, events, vendorApi } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1);

/** A manual clock that records every sleep it is asked for, and passes that time at once. */
class RecordingClock extends ManualClock {
  readonly sleeps: number[] = [];
  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    this.advance(ms);
    return super.sleep(0, signal);
  }
}

const retrying = {
  id: 'retrying',
  retry: { maxAttempts: 3, backoff: { initial: '10s', factor: 2, jitter: 0 } },
  steps: {
    lookup: { tool: 'vendor_api', with: { vendorId: 'V-7' }, next: 'done' },
    done: { final: true, output: '{% $steps.lookup.output.name %}' },
  },
};

const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
async function sqlite(path: string): Promise<Store> {
  const store = await openStore(`sqlite:${path}`);
  stores.push(store);
  return store;
}
const model = { apiKey: 'unused' };

describe('backoff across a restart', () => {
  it('the due time is persisted; after a restart the new engine waits only the remainder', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'stepwise-backoff-')), 'runs.db');
    const before = await sqlite(file);
    const first = createEngine({ store: before, clock: new ManualClock({ start: T0 }), model });
    const def = definition(retrying, [failingTool(vendorApi, { failures: 1 })]);
    const started = await first.start(def, { detach: true });
    const stopped = await first.step(started.runId); // attempt 1 fails; the run rests in its 10 s backoff
    expect(stopped.status).toBe('running');
    const record = (await before.get(started.runId))!;
    expect(record.wakeAt).toBe(T0 + 10_000);
    expect((record.snapshot as { context: { active: Record<string, { retryAt: number }> } }).context.active['lookup']!.retryAt).toBe(T0 + 10_000);
    await before.close(); // the process stops mid-backoff
    stores.length = 0;

    // A new process, 4 s later: stepping early does nothing, the run still waits for its due time.
    const after = await sqlite(file);
    const clock = new RecordingClock({ start: T0 + 4_000 });
    const second = createEngine({ store: after, clock, model, tools: [vendorApi] }); // the API is back
    const early = await second.step(started.runId);
    expect(early.steps[0]).toMatchObject({ id: 'lookup', attempts: 1 });
    expect((await after.get(started.runId))!.wakeAt).toBe(T0 + 10_000);

    const resumed = await second.resume(started.runId);
    expect(resumed).toMatchObject({ status: 'done', output: 'ACME' });
    expect(clock.sleeps).toEqual([6_000]); // the remainder, not a fresh 10 s
    const journal = await second.journal(started.runId);
    expect(events(journal, 'retry_scheduled')).toMatchObject([{ data: { retryAt: T0 + 10_000, delayMs: 10_000 } }]);
    expect(events(journal, 'started').map((e) => [e.attempt, e.at])).toEqual([
      [1, T0],
      [2, T0 + 10_000],
    ]);
  });

  it('success resets the attempt count for the next visit; backoffs grow by the factor', async () => {
    const clock = new RecordingClock({ start: T0 });
    const store = await sqlite(':memory:');
    const engine = createEngine({ store, clock, model });
    const run = await engine.start(definition(retrying, [failingTool(vendorApi, { failures: 2 })]));
    expect(run).toMatchObject({ status: 'done', steps: [{ id: 'lookup', attempts: 3 }, { id: 'done' }] });
    expect(clock.sleeps).toEqual([10_000, 20_000]);
  });
});

describe('deadline', () => {
  it('a run past its deadline stops failed with kind deadline, not resumable', async () => {
    const clock = new ManualClock({ start: T0, autoAdvance: true });
    const store = await sqlite(':memory:');
    const slow = slowTool(vendorApi, { ms: 90_000, clock });
    const engine = createEngine({ store, clock, model });
    const def = definition(
      {
        id: 'deadline',
        deadline: '1m',
        steps: {
          lookup: { tool: 'vendor_api', with: { vendorId: 'V-7' } },
          again: { tool: 'vendor_api', with: { vendorId: 'V-8' }, next: 'done' },
          done: { final: true },
        },
      },
      [slow],
    );
    const run = await engine.start(def);
    // The first call (90 s) is in flight when the deadline (1 min) passes: it is aborted, and the run fails there.
    expect(run).toMatchObject({ status: 'failed', resumable: false, failure: { kind: 'deadline', step: 'lookup' } });
    expect(slow.calls()).toBe(1); // the second call was never made
    expect(events(await engine.journal(run.runId), 'failed')).toMatchObject([
      { step: 'lookup', error: { kind: 'cancelled', message: 'the attempt was aborted: the workflow deadline passed' } },
      { step: 'lookup', error: { kind: 'deadline' } },
    ]);
  });

  it('a deadline that falls inside a backoff wakes the run at the deadline', async () => {
    const clock = new RecordingClock({ start: T0 });
    const store = await sqlite(':memory:');
    const engine = createEngine({ store, clock, model });
    const def = definition({ ...retrying, id: 'deadline-backoff', deadline: '5s' }, [failingTool(vendorApi, { failures: 5 })]);
    const started = await engine.start(def, { detach: true });
    await engine.step(started.runId);
    expect((await store.get(started.runId))!.wakeAt).toBe(T0 + 5_000);
    const run = await engine.resume(started.runId);
    expect(run.failure?.kind).toBe('deadline');
  });

  it('a run sleeping through a backoff wakes at the deadline, not at the end of the backoff', async () => {
    const clock = new RecordingClock({ start: T0 });
    const store = await sqlite(':memory:');
    const engine = createEngine({ store, clock, model });
    const tool = failingTool(vendorApi, { failures: 5 });
    const run = await engine.start(definition({ ...retrying, id: 'deadline-sleep', deadline: '5s' }, [tool])); // backoff 10 s
    expect(run).toMatchObject({ status: 'failed', resumable: false, failure: { kind: 'deadline', step: 'lookup' } });
    expect(clock.sleeps).toEqual([5_000]); // the earlier of the backoff (10 s) and the deadline (5 s)
    expect(clock.now()).toBe(T0 + 5_000);
    expect(tool.calls()).toBe(1);
    const failed = events(await engine.journal(run.runId), 'failed');
    expect(failed.map((e) => [e.error?.kind, e.at])).toEqual([
      ['tool_error', T0],
      ['deadline', T0 + 5_000],
    ]);
  });
});
