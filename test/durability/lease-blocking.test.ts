/**
 * A step that outlives its lease, in one process, on SQLite and PostgreSQL: a
 * tool that blocks the event loop (a busy loop, so no heartbeat can run) while
 * the injectable clock moves past the lease. A worker never claims a run it is
 * already driving, so the tool runs once; a driver whose lease was taken over
 * while its step ran stops without committing, and the new holder re-runs the
 * attempt with the same idempotency key; a run claimed on a due wait timeout
 * while the worker is slow to start driving it is driven once. The busy loop
 * only creates the condition; the assertions count tool calls and journal entries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { heartbeat } from '../../src/engine/lease.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { LeaseLostError, type Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import { journalProblems } from './helpers.js';
import { PG_URL as URL, testSchemas } from '../pg.js';

const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-lease-'));
const schemas = testSchemas('lease');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const backends: Record<'sqlite' | 'postgres', () => Promise<Store>> = {
  sqlite: async () => createSqliteStore({ path: path.join(dir, `lease-${++n}.db`) }),
  postgres: async () => {
    const schema = schemas.name();
    const store = createPostgresStore({ url: URL, schema, pool: 4 });
    await store.migrate();
    return store;
  },
};

const LEASE = 3_000;

/** Blocks the event loop: no timer, no heartbeat, no other promise runs meanwhile. */
function busyWait(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

/** slow (the tool under test) → after → done. */
function blockingDefinition(slow: (key: string, runId: string) => Promise<void> | void, calls: string[]) {
  const tools = [
    defineTool({
      name: 'slow',
      description: 'A call that takes longer than the lease.',
      input: z.object({ order: z.string() }),
      run: async ({ order }, { idempotencyKey, runId }) => {
        calls.push(idempotencyKey);
        await slow(idempotencyKey, runId);
        return { order };
      },
    }),
    defineTool({
      name: 'after',
      description: 'The next step.',
      input: z.object({ order: z.string() }),
      run: ({ order }, { idempotencyKey }) => {
        calls.push(idempotencyKey);
        return { order };
      },
    }),
  ];
  const workflow = {
    id: 'blocking',
    breaker: false,
    steps: {
      slow: { tool: 'slow', with: { order: '{% $input.order %}' }, next: 'after' },
      after: { tool: 'after', with: { order: '{% $input.order %}' }, next: 'done' },
      done: { final: true },
    },
  };
  return loadDefinitionFromObject(workflow, tools, 'blocking');
}

const count = (values: readonly string[]) => values.reduce((m, v) => m.set(v, (m.get(v) ?? 0) + 1), new Map<string, number>());

describe.each(['sqlite', 'postgres'] as const)('a step longer than the lease (%s)', (backend) => {
  it('one worker, a tool that blocks past the lease: the worker does not claim the run it drives, each tool runs once', { timeout: 60_000 }, async () => {
    const store = await backends[backend]();
    const clock = new ManualClock();
    const calls: string[] = [];
    const errors: unknown[] = [];
    try {
      const definition = blockingDefinition(() => {
        clock.advance(LEASE + 1_000);
        busyWait(150);
      }, calls);
      const engine = createEngine({ store, clock, model: { apiKey: 'unused' } });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await engine.start(definition, { input: { order: `B-${i}` }, detach: true })).runId);
      const summary = await engine.work({ concurrency: 4, leaseMs: LEASE, pollMs: 1, exitWhenIdle: true, onError: (_, e) => errors.push(e) });
      expect(errors.map(String)).toEqual([]);
      expect(summary.errors).toBe(0);
      expect(summary.claimed).toBe(3);
      expect([...count(calls).values()].every((c) => c === 1)).toBe(true);
      expect(calls).toHaveLength(6);
      for (const id of ids) {
        expect((await store.get(id))?.status).toBe('done');
        const journal = await store.journal(id);
        expect(journalProblems(journal)).toEqual([]);
        expect(journal.filter((e) => e.event === 'started').map((e) => e.step)).toEqual(['slow', 'after']);
      }
    } finally {
      await store.close();
    }
  });

  it('a worker whose lease is taken over while its tool runs stops without committing; the new holder re-runs the attempt', { timeout: 60_000 }, async () => {
    const store = await backends[backend]();
    const clock = new ManualClock();
    const calls: string[] = [];
    const errors: unknown[] = [];
    try {
      let first = true;
      const definition = blockingDefinition(async (_key, runId) => {
        if (!first) return;
        first = false;
        // The lease runs out while the tool blocks, and another worker takes the run.
        clock.advance(LEASE + 1_000);
        expect(await store.acquire(runId, 'intruder', clock.now(), 600_000)).toBe(true);
        busyWait(50);
      }, calls);
      const engine = createEngine({ store, clock, model: { apiKey: 'unused' } });
      const run = await engine.start(definition, { input: { order: 'T-1' }, detach: true });
      const drain = new AbortController();
      const summary = await engine.work({
        leaseMs: LEASE, pollMs: 1, signal: drain.signal,
        onError: (_, e) => {
          errors.push(e);
          drain.abort();
        },
      });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(LeaseLostError);
      expect(summary).toMatchObject({ errors: 0, lost: 1 });
      const stored = await store.get(run.runId);
      // Nothing after the attempt's start was committed: the new holder owns the run as it was.
      expect(stored).toMatchObject({ status: 'running', revision: 1, lease: { owner: 'intruder' } });
      expect((await store.journal(run.runId)).map((e) => e.event)).toEqual(['created', 'started']);

      await store.release(run.runId, 'intruder');
      const again = await engine.work({ leaseMs: LEASE, pollMs: 1, exitWhenIdle: true, onError: (_, e) => errors.push(e) });
      expect(again.errors).toBe(0);
      expect((await store.get(run.runId))?.status).toBe('done');
      const journal = await store.journal(run.runId);
      expect(journalProblems(journal)).toEqual([]);
      const slowKey = calls[0]!;
      expect(count(calls).get(slowKey)).toBe(2);
      expect(journal.filter((e) => e.event === 'started' && e.step === 'slow').map((e) => e.data ?? null)).toEqual([
        expect.anything(),
        { rerun: true },
      ]);
      expect(journal.filter((e) => e.event === 'completed').map((e) => e.step)).toEqual(['slow', 'after']);
    } finally {
      await store.close();
    }
  });
});

describe('a run claimed on a due timer while the worker is slow to start driving it', () => {
  it('is driven once: the worker does not claim it again when its lease runs out meanwhile', { timeout: 60_000 }, async () => {
    const store = createMemoryStore();
    const clock = new ManualClock();
    const calls: string[] = [];
    const tools = [
      defineTool({
        name: 'after',
        description: 'The step after the wait.',
        input: z.object({ order: z.string() }),
        run: ({ order }, { idempotencyKey }) => {
          calls.push(idempotencyKey);
          return { order };
        },
      }),
    ];
    const workflow = {
      id: 'timed',
      steps: {
        approval: { wait: { on: { APPROVE: 'after' }, timeout: '1s', onTimeout: 'after' } },
        after: { tool: 'after', with: { order: '{% $input.order %}' }, next: 'done' },
        done: { final: true },
      },
    };
    const definition = loadDefinitionFromObject(workflow, tools, 'timed');
    const starter = createEngine({ store, clock, model: { apiKey: 'unused' } });
    const run = await starter.start(definition, { input: { order: 'D-1' } });
    expect(run.status).toBe('waiting');
    clock.advance(2_000);
    // Before the drive: what loads slowly (a tool module, a model server) while the lease runs out and the worker keeps polling.
    let prepared = 0;
    const worker = createEngine({
      store, clock, tools, model: { apiKey: 'unused' },
      modelForRun: async () => {
        prepared++;
        clock.advance(LEASE + 1_000);
        await new Promise((done) => setTimeout(done, 50));
        return undefined;
      },
    });
    const errors: unknown[] = [];
    const summary = await worker.work({ leaseMs: LEASE, pollMs: 1, exitWhenIdle: true, onError: (_, e) => errors.push(e) });
    expect(errors.map(String)).toEqual([]);
    expect(summary).toMatchObject({ claimed: 1, errors: 0, lost: 0 });
    expect(prepared).toBe(1);
    expect(calls).toHaveLength(1);
    const journal = await store.journal(run.runId);
    expect(journal.filter((e) => e.event === 'timeout')).toHaveLength(1);
    expect((await store.get(run.runId))?.status).toBe('done');
  });
});

describe('an engine command whose lease is taken over mid-step', () => {
  it('stops with LeaseLostError and commits nothing of the step', async () => {
    const store = createMemoryStore();
    const clock = new ManualClock();
    const calls: string[] = [];
    const definition = blockingDefinition(async (_key, runId) => {
      clock.advance(LEASE + 1_000);
      expect(await store.acquire(runId, 'intruder', clock.now(), 600_000)).toBe(true);
    }, calls);
    const engine = createEngine({ store, clock, model: { apiKey: 'unused' }, leaseMs: LEASE });
    const error = await engine.start(definition, { input: { order: 'C-1' }, runId: 'c-1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseLostError);
    expect(calls).toHaveLength(1);
    expect((await store.journal('c-1')).map((e) => e.event)).toEqual(['created', 'started']);
    expect((await store.get('c-1'))?.lease?.owner).toBe('intruder');
  });
});

describe('checking a held lease', () => {
  it('counts from when the lease was granted: a stale lease is checked against the store, a lost one aborts the signal', async () => {
    const store = createMemoryStore();
    const clock = new ManualClock();
    const calls: string[] = [];
    const engine = createEngine({ store, clock, model: { apiKey: 'unused' } });
    const run = await engine.start(blockingDefinition(() => {}, calls), { input: { order: 'H-1' }, detach: true });
    const grantedAt = clock.now();
    expect(await store.acquire(run.runId, 'me', grantedAt, LEASE)).toBe(true);
    // The process stalled after taking the lease; meanwhile it expired and another owner took it.
    clock.advance(LEASE + 1);
    expect(await store.acquire(run.runId, 'other', clock.now(), LEASE)).toBe(true);
    const beat = heartbeat(store, clock, run.runId, 'me', LEASE, LEASE / 3, grantedAt);
    try {
      expect(await beat.check()).toBe(false);
      expect(beat.signal.reason).toBeInstanceOf(LeaseLostError);
    } finally {
      beat.stop();
    }
    // A lease nobody took over is renewed by the check, and then fresh.
    await store.release(run.runId, 'other');
    expect(await store.acquire(run.runId, 'me', clock.now(), LEASE)).toBe(true);
    const since = clock.now();
    clock.advance(LEASE + 1);
    const mine = heartbeat(store, clock, run.runId, 'me', LEASE, LEASE / 3, since);
    try {
      expect(await mine.check()).toBe(true);
      expect((await store.get(run.runId))?.lease).toEqual({ owner: 'me', until: clock.now() + LEASE });
      expect(mine.signal.aborted).toBe(false);
    } finally {
      mine.stop();
    }
  });

  it('of a run still to be created with it (unstored): kept while no run is found, renewed once stored, lost to another owner', async () => {
    const store = createMemoryStore();
    const clock = new ManualClock();
    const engine = createEngine({ store, clock, model: { apiKey: 'unused' } });
    const definition = blockingDefinition(() => {}, []);
    const beat = heartbeat(store, clock, 'later', 'me', LEASE, LEASE / 3, clock.now(), true);
    const plain = heartbeat(store, clock, 'later', 'me', LEASE, LEASE / 3, clock.now());
    try {
      clock.advance(LEASE / 2);
      // Not in the store: the unstored lease holds; the same check of a lease on a run that should exist loses it.
      expect(await beat.check()).toBe(true);
      expect(beat.signal.aborted).toBe(false);
      expect(await plain.check()).toBe(false);
      // Created by someone else, under another owner: lost.
      await engine.start(definition, { runId: 'later', input: { order: 'H-2' }, detach: true });
      expect(await store.acquire('later', 'other', clock.now(), LEASE)).toBe(true);
      clock.advance(LEASE / 2);
      expect(await beat.check()).toBe(false);
      expect(beat.signal.reason).toBeInstanceOf(LeaseLostError);
    } finally {
      beat.stop();
      plain.stop();
    }
    // Created with this owner's lease: renewed as any held lease.
    const mine = heartbeat(store, clock, 'mine', 'me', LEASE, LEASE / 3, clock.now(), true);
    try {
      await engine.start(definition, { runId: 'mine', input: { order: 'H-3' }, detach: true });
      expect(await store.acquire('mine', 'me', clock.now(), LEASE)).toBe(true);
      clock.advance(LEASE / 2);
      expect(await mine.check()).toBe(true);
      expect((await store.get('mine'))?.lease).toEqual({ owner: 'me', until: clock.now() + LEASE });
    } finally {
      mine.stop();
    }
  });
});
