/**
 * Graceful failure: the ways a run stops that the other guard tests do not
 * cover end in a persisted state with `failure: { kind, step, message }` and
 * the right `resumable` — invalid data, a tool error that must not be
 * retried, retries of a failing tool, cancellation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { failingTool } from '../../src/testing/tool-faults.js';
import { createMemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/types.js';
import { definition, events, fastRetry, rig, vendorApi, type Rig } from './helpers.js';

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const lookup = (extra: Record<string, unknown> = {}) => ({
  id: 'kinds',
  retry: fastRetry,
  steps: {
    lookup: { tool: 'vendor_api', with: { vendorId: 'V-1' }, ...extra },
    route: { choice: [{ when: "{% $steps.lookup.output.status = 'blocked' %}", next: 'done' }] },
    done: { final: true },
  },
});

describe('failure kinds', () => {
  it('tool_error: a tool error marked retryable: false fails at once, resumable', async () => {
    r = await rig();
    const tool = failingTool(vendorApi, { failures: 1, retryable: false, message: 'vendor V-1 does not exist' });
    const run = await r.engine.start(definition(lookup(), [tool]));
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'tool_error', step: 'lookup' } });
    expect(run.failure?.message).toMatch(/vendor_api: vendor V-1 does not exist/);
    expect(tool.calls()).toBe(1);
  });

  it('retries_exhausted: a failing tool is retried maxAttempts times, the last error kept', async () => {
    r = await rig();
    const tool = failingTool(vendorApi, { failures: 10 });
    const run = await r.engine.start(definition(lookup(), [tool]));
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'retries_exhausted', step: 'lookup' } });
    expect(run.failure?.message).toMatch(/after 3 attempts; last: tool_error/);
    expect(events(await r.engine.journal(run.runId), 'retry_scheduled')).toHaveLength(2);
  });

  it('invalid_data: a tool input that fails its schema is not retried', async () => {
    r = await rig();
    const run = await r.engine.start(definition({ ...lookup(), steps: { ...lookup().steps, lookup: { tool: 'vendor_api', with: { vendorId: 42 } } } }, [vendorApi]));
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'invalid_data', step: 'lookup' } });
    expect(run.failure?.message).toMatch(/input of vendor_api is invalid/);
  });

  it('invalid_data: a choice no branch matches fails the run, not resumable (the same data would not match again)', async () => {
    r = await rig();
    const run = await r.engine.start(definition(lookup(), [vendorApi]));
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'invalid_data', step: 'route' } });
    expect(run.resumable).toBe(false);
  });

  it('engine_error: the store failing under a step is the engine\'s error, retried, its message whole', async () => {
    const store = createMemoryStore();
    const broken: Store = {
      ...store,
      readShared: async <T>(key: string): Promise<T | null> => {
        if (key.startsWith('breaker:')) throw new Error('disk I/O error while reading the breaker of vendor_api');
        return store.readShared<T>(key);
      },
      // Breakers read every tool's state in one read where the store can.
      readSharedPrefix: async <T>(prefix: string): Promise<Array<readonly [string, T]>> => {
        if (prefix.startsWith('breaker:')) throw new Error('disk I/O error while reading the breaker of vendor_api');
        return store.readSharedPrefix!<T>(prefix);
      },
    };
    r = await rig({ store: broken });
    const run = await r.engine.start(definition(lookup(), [vendorApi]));
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'retries_exhausted', step: 'lookup' } });
    expect(run.failure?.message).toMatch(/^disk I\/O error while reading the breaker of vendor_api \(after 3 attempts; last: engine_error\)$/);
    const failed = events(await r.engine.journal(run.runId), 'failed');
    expect(failed.map((e) => e.error?.kind)).toEqual(['engine_error', 'engine_error', 'engine_error']);
    await store.close();
  });

  it('engine_error: a tool no module provides fails at once, not retried', async () => {
    r = await rig();
    const source = definition(lookup(), [vendorApi]);
    const run = await r.engine.start({ ...source, tools: [] });
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'engine_error', step: 'lookup' } });
    expect(run.failure?.message).toBe('step "lookup" uses tool "vendor_api", which no module provides');
  });

  it('invalid_data: a final output expression that fails ends the run failed, naming the expression, not resumable', async () => {
    r = await rig();
    const def = definition(
      {
        id: 'bad-output',
        steps: {
          lookup: { tool: 'vendor_api', with: { vendorId: 'V-1' }, next: 'done' },
          done: { final: true, output: { name: '{% $steps.lookup.output.name + 1 %}' } },
        },
      },
      [vendorApi],
    );
    const run = await r.engine.start(def);
    expect(run).toMatchObject({ status: 'failed', resumable: false, output: null, failure: { kind: 'invalid_data', step: 'done' } });
    expect(run.failure?.message).toContain('$steps.lookup.output.name + 1');
    expect(run.failure?.message).toMatch(/final step "done"/);
    expect(run.steps.map((s) => [s.id, s.status])).toEqual([
      ['lookup', 'done'],
      ['done', 'failed'],
    ]);
    expect(await r.engine.get(run.runId)).toEqual(run); // persisted as returned
    const journal = await r.engine.journal(run.runId);
    expect(events(journal, 'finished')).toHaveLength(0);
    expect(events(journal, 'failed')).toMatchObject([{ step: 'done', error: { kind: 'invalid_data' } }]);
    await expect(r.engine.resume(run.runId)).rejects.toThrow(/invalid_data/);
  });

  it('a final step whose output evaluates ends the run done with that output', async () => {
    r = await rig();
    const def = definition(
      {
        id: 'good-output',
        steps: {
          lookup: { tool: 'vendor_api', with: { vendorId: 'V-1' }, next: 'done' },
          done: { final: true, output: { name: '{% $steps.lookup.output.name %}' } },
        },
      },
      [vendorApi],
    );
    const run = await r.engine.start(def);
    expect(run).toMatchObject({ status: 'done', output: { name: 'ACME' }, failure: null });
    expect(run.steps.map((s) => [s.id, s.status])).toEqual([
      ['lookup', 'done'],
      ['done', 'done'],
    ]);
    expect(events(await r.engine.journal(run.runId), 'finished')).toMatchObject([{ step: 'done', output: { name: 'ACME' } }]);
  });

  it('cancelled: a cancelled run keeps where it was and is not resumable', async () => {
    r = await rig();
    const started = await r.engine.start(definition(lookup(), [vendorApi]), { detach: true });
    const run = await r.engine.cancel(started.runId, 'operator asked');
    expect(run).toMatchObject({ status: 'cancelled', resumable: false, failure: { kind: 'cancelled', message: 'operator asked' } });
  });
});
