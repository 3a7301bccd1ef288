/**
 * Circuit breakers through the engine: a failing tool opens its breaker, the
 * next runs route around it without calling it, the journal records every
 * change, and after the cool-down one probe closes it again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { createBreakers } from '../../src/engine/breakers.js';
import { createMemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/types.js';
import { downTool } from '../../src/testing/tool-faults.js';
import { definition, events, fastRetry, rig, vendorApi, type Rig } from './helpers.js';

const withFallback = {
  id: 'breaker-fallback',
  retry: fastRetry,
  breaker: { threshold: 2, cooldown: '1m' },
  steps: {
    lookup: { tool: 'vendor_api', with: { vendorId: 'V-1' }, onError: 'manual', next: 'done' },
    manual: { final: true, output: { handledBy: 'manual', error: '{% $steps.lookup.error.kind %}' } },
    done: { final: true, output: { handledBy: 'api', name: '{% $steps.lookup.output.name %}' } },
  },
};

const withoutFallback = {
  id: 'breaker-fail',
  retry: fastRetry,
  breaker: { threshold: 2, cooldown: '1m' },
  steps: {
    lookup: { tool: 'vendor_api', with: { vendorId: 'V-1' }, next: 'done' },
    done: { final: true, output: '{% $steps.lookup.output.name %}' },
  },
};

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

describe('circuit breaker', () => {
  it('opens after threshold failures, routes later runs to onError without calling the tool, then a probe closes it', async () => {
    const clock = new ManualClock({ autoAdvance: true });
    const start = clock.now();
    const tool = downTool(vendorApi, { from: start, until: start + 30_000, clock });
    r = await rig({ clock });
    const def = definition(withFallback, [tool]);

    const first = await r.engine.start(def);
    expect(first.status).toBe('done');
    expect(first.output).toEqual({ handledBy: 'manual', error: 'breaker_open' });
    expect(tool.calls()).toBe(2); // attempt 3 was refused by the open breaker
    const journal = await r.engine.journal(first.runId);
    expect(events(journal, 'breaker').map((e) => e.data)).toMatchObject([{ tool: 'vendor_api', from: 'closed', to: 'open', failures: 2 }]);
    expect(events(journal, 'failed').map((e) => e.error?.kind)).toEqual(['tool_error', 'tool_error', 'breaker_open']);

    const second = await r.engine.start(def);
    expect(second.output).toEqual({ handledBy: 'manual', error: 'breaker_open' });
    expect(second.steps[0]).toMatchObject({ id: 'lookup', status: 'failed', attempts: 1 });
    expect(tool.calls()).toBe(2);

    (clock as ManualClock).advance(60_000); // the tool is back and the cool-down is over
    const third = await r.engine.start(def);
    expect(third.output).toEqual({ handledBy: 'api', name: 'ACME' });
    expect(tool.calls()).toBe(3);
    const changes = events(await r.engine.journal(third.runId), 'breaker').map((e) => [(e.data as { from: string }).from, (e.data as { to: string }).to]);
    expect(changes).toEqual([
      ['open', 'half_open'],
      ['half_open', 'closed'],
    ]);
  });

  it('without onError the run stops failed with breaker_open, stays resumable, and resume continues after the cool-down', async () => {
    const clock = new ManualClock({ autoAdvance: true });
    const start = clock.now();
    const tool = downTool(vendorApi, { from: start, until: start + 30_000, clock });
    r = await rig({ clock });
    const def = definition(withoutFallback, [tool]);

    const run = await r.engine.start(def);
    expect(run.status).toBe('failed');
    expect(run.resumable).toBe(true);
    expect(run.failure).toMatchObject({ kind: 'breaker_open', step: 'lookup' });
    expect(run.failure?.message).toMatch(/circuit breaker is open/);

    const refused = await r.engine.resume(run.runId); // still open: refused at once, the tool is not called
    expect(refused.failure?.kind).toBe('breaker_open');
    expect(tool.calls()).toBe(2);

    (clock as ManualClock).advance(60_000);
    const resumed = await r.engine.resume(run.runId);
    expect(resumed.status).toBe('done');
    expect(resumed.output).toBe('ACME');
  });

  it('a failing probe opens the breaker again for a full cool-down', async () => {
    const clock = new ManualClock();
    const store = createMemoryStore();
    const breakers = createBreakers(store, clock);
    const policy = { threshold: 1, cooldownMs: 1000 };
    await breakers.record('t', 'failure', policy);
    expect((await breakers.acquire('t', policy)).allowed).toBe(false);
    clock.advance(1000);
    const probe = await breakers.acquire('t', policy);
    expect(probe).toMatchObject({ allowed: true, change: { from: 'open', to: 'half_open' } });
    expect((await breakers.acquire('t', policy)).allowed).toBe(false); // one probe at a time
    expect(await breakers.record('t', 'failure', policy)).toMatchObject({ from: 'half_open', to: 'open', retryAt: clock.now() + 1000 });
    clock.advance(999);
    expect(await breakers.isOpen('t', policy)).toEqual({ open: true, retryAt: clock.now() + 1 });
    await store.close();
  });

  it('a healthy breaker is read once per quiet TTL of the engine clock; any other state on every call', async () => {
    const clock = new ManualClock();
    const store = createMemoryStore();
    let reads = 0;
    const { readSharedPrefix: _byPrefix, ...perKey } = store; // a store that reads one key at a time
    const counted: Store = { ...perKey, readShared: <T>(key: string) => (reads++, store.readShared<T>(key)) };
    const breakers = createBreakers(counted, clock, { quietTtlMs: 1000 });
    const policy = { threshold: 3, cooldownMs: 60_000 };
    for (let i = 0; i < 5; i++) {
      expect((await breakers.acquire('t', policy)).allowed).toBe(true);
      expect(await breakers.record('t', 'success', policy)).toBeNull();
    }
    expect(reads).toBe(1);
    clock.advance(1000);
    await breakers.acquire('t', policy);
    expect(reads).toBe(2);
    await breakers.record('t', 'failure', policy); // one failure: no longer quiet, read on every call
    await breakers.acquire('t', policy);
    await breakers.acquire('t', policy);
    expect(reads).toBe(4);
    await store.close();
  });

  it('on a store that reads by prefix, one read tells every quiet breaker for the TTL; a loud one is read on every call', async () => {
    const clock = new ManualClock();
    const store = createMemoryStore();
    const reads: string[] = [];
    const counted: Store = {
      ...store,
      readShared: <T>(key: string) => (reads.push(key), store.readShared<T>(key)),
      readSharedPrefix: <T>(prefix: string) => (reads.push(`${prefix}*`), store.readSharedPrefix!<T>(prefix)),
    };
    const policy = { threshold: 3, cooldownMs: 60_000 };
    const there = createBreakers(store, clock);
    await there.record('loud', 'failure', policy); // another engine saw a failure: not quiet
    const breakers = createBreakers(counted, clock, { quietTtlMs: 1000 });
    for (const tool of ['a', 'b', 'c', 'a', 'b', 'c']) expect((await breakers.acquire(tool, policy)).allowed).toBe(true);
    expect(reads).toEqual(['breaker:*']);
    expect((await breakers.acquire('loud', policy)).allowed).toBe(true); // its failure count is known: updated, not read
    reads.length = 0;
    await breakers.isOpen('loud', policy);
    await breakers.isOpen('loud', policy);
    expect(reads).toEqual(['breaker:loud', 'breaker:loud']);
    // A breaker another engine opens in the meantime is seen once the TTL has passed.
    await there.record('a', 'failure', policy);
    await there.record('a', 'failure', policy);
    await there.record('a', 'failure', policy);
    expect(await breakers.isOpen('a', policy)).toMatchObject({ open: false });
    clock.advance(1000);
    expect(await breakers.isOpen('a', policy)).toMatchObject({ open: true });
    expect(await breakers.isOpen('b', policy)).toMatchObject({ open: false });
    expect(reads.filter((k) => k === 'breaker:*')).toHaveLength(1);
    await store.close();
  });

  it('a breaker another engine opened is seen once the quiet TTL has passed, at once without the cache', async () => {
    const clock = new ManualClock();
    const store = createMemoryStore();
    const policy = { threshold: 1, cooldownMs: 60_000 };
    const here = createBreakers(store, clock, { quietTtlMs: 1000 });
    const uncached = createBreakers(store, clock, { quietTtlMs: 0 });
    const there = createBreakers(store, clock);
    expect((await here.acquire('t', policy)).allowed).toBe(true);
    expect((await uncached.acquire('t', policy)).allowed).toBe(true);
    expect(await there.record('t', 'failure', policy)).toMatchObject({ from: 'closed', to: 'open' });
    expect((await uncached.acquire('t', policy)).allowed).toBe(false);
    clock.advance(1000);
    expect(await here.isOpen('t', policy)).toEqual({ open: true, retryAt: clock.now() + 59_000 });
    expect((await here.acquire('t', policy)).allowed).toBe(false);
    await store.close();
  });

  it('breaker: false turns it off for a step', async () => {
    const clock = new ManualClock({ autoAdvance: true });
    const tool = downTool(vendorApi, { from: clock.now(), until: clock.now() + 1e9, clock });
    r = await rig({ clock });
    const off = { ...withFallback, id: 'breaker-off', steps: { ...withFallback.steps, lookup: { ...withFallback.steps.lookup, breaker: false } } };
    const run = await r.engine.start(definition(off, [tool]));
    expect(run.output).toEqual({ handledBy: 'manual', error: 'tool_error' });
    expect(tool.calls()).toBe(3);
  });
});
