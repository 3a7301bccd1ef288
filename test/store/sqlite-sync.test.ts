/**
 * What the SQLite store waits for the disk on (`synchronous = FULL`): a step's
 * completion, an event, a run created for someone else — anything a caller may
 * be told happened. The start of an attempt, a run created under its creator's
 * lease and the lease itself are written without waiting (a process crash
 * cannot lose them; a power loss loses only what is redone with the same
 * idempotency key), and the next durable write makes them durable. So a
 * tool step costs one fsync, as in the raw limit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createSqliteStore, type SqliteSynchronous } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { entry, makeRun, patch } from '../../src/testing/store-fixtures.js';
import { defineTool } from '../../src/tools/define.js';

const root = mkdtempSync(join(tmpdir(), 'stepwise-sqlite-sync-'));
let n = 0;
const nextPath = () => join(root, `db-${++n}`, 'stepwise.db');
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Logged {
  /** What the transaction held: one label per write. */
  readonly writes: string[];
  readonly synchronous: SqliteSynchronous;
}

/** A FULL store that logs each write transaction with the `synchronous` level it committed at, read from SQLite itself. */
function loggingStore(path: string): { store: Store; log: Logged[] } {
  const log: Logged[] = [];
  let labels: string[] = [];
  const store = createSqliteStore({
    path,
    synchronous: 'FULL',
    hooks: {
      committed: ({ synchronous }) => {
        log.push({ writes: labels, synchronous });
        labels = [];
      },
    },
  });
  const { create, commit, release, acquire } = store;
  Object.assign(store, {
    create: (run, journal) => {
      labels.push(`create${run.lease ? ' leased' : ''}:${journal.map((e) => e.event).join('+')}`);
      return create.call(store, run, journal);
    },
    commit: (...args) => {
      labels.push(args[2].map((e) => e.event).join('+'));
      return commit.apply(store, args);
    },
    release: (...args) => {
      labels.push('release');
      return release.apply(store, args);
    },
    acquire: (...args) => {
      labels.push('acquire');
      return acquire.apply(store, args);
    },
  } satisfies Partial<Store>);
  return { store, log };
}

const add = defineTool({ name: 'add', description: 'Add one', input: z.object({ n: z.number() }), run: ({ n }) => ({ n: n + 1 }) });
const noModel = { baseURL: 'http://127.0.0.1:9', apiKey: 'unused', maxRetries: 0 };
const fiveSteps = loadDefinitionFromObject(
  {
    id: 'five',
    steps: {
      a: { tool: 'add', with: { n: 0 }, next: 'b' },
      b: { tool: 'add', with: { n: '{% $steps.a.output.n %}' }, next: 'c' },
      c: { tool: 'add', with: { n: '{% $steps.b.output.n %}' }, next: 'd' },
      d: { tool: 'add', with: { n: '{% $steps.c.output.n %}' }, next: 'e' },
      e: { tool: 'add', with: { n: '{% $steps.d.output.n %}' }, next: 'end' },
      end: { final: true, output: '{% $steps.e.output.n %}' },
    },
  },
  [add],
  'five',
);

describe('SQLite store: what waits for the disk', () => {
  it('a five-step tool run waits for the disk five times: each with a completed step, none for a start, the creation or the lease', async () => {
    const { store, log } = loggingStore(nextPath());
    try {
      const engine = createEngine({ store, model: noModel, clock: new ManualClock({ autoAdvance: true }) });
      const run = await engine.start(fiveSteps, { input: {} });
      expect(run).toMatchObject({ status: 'done', output: 5 });
      const completed = (await engine.journal(run.runId)).filter((e) => e.event === 'completed').length;
      expect(completed).toBe(5);
      expect(log.map((l) => `${l.writes.join(',')} ${l.synchronous}`)).toEqual([
        // The run is created by its first commit, the first step's start.
        'create leased:created+started NORMAL',
        'completed+started FULL',
        'completed+started FULL',
        'completed+started FULL',
        'completed+started FULL',
        // The last commit ends the run and lets go of the lease with it: the release writes nothing.
        'completed+finished FULL',
      ]);
      expect(log.filter((l) => l.synchronous === 'FULL')).toHaveLength(completed);
    } finally {
      await store.close();
    }
  });

  it('a run that rests at once is durable before start returns: the lease release waits for the disk when a deferred write is pending', async () => {
    const { store, log } = loggingStore(nextPath());
    try {
      const run = makeRun({ lease: { owner: 'me', until: Date.now() + 60_000 } });
      await store.create(run, [entry({ event: 'created', step: null })]);
      await store.release(run.id, 'me');
      await store.release(run.id, 'me');
      expect(log).toEqual([
        { writes: ['create leased:created'], synchronous: 'NORMAL' },
        { writes: ['release'], synchronous: 'FULL' },
        { writes: ['release'], synchronous: 'NORMAL' },
      ]);
    } finally {
      await store.close();
    }
  });

  it('a started run whose first commit already waits (or ends) is created durably: whoever watches its commits may be told', async () => {
    const { store, log } = loggingStore(nextPath());
    try {
      const engine = createEngine({ store, model: noModel, clock: new ManualClock({ autoAdvance: true }) });
      const waits = loadDefinitionFromObject({ id: 'waits', steps: { hold: { wait: { on: { GO: 'done' } } }, done: { final: true } } }, [], 'waits');
      const seen: string[] = [];
      engine.subscribe((view) => seen.push(view.status));
      const run = await engine.start(waits, { input: {} });
      expect(run.status).toBe('waiting');
      expect(seen).toEqual(['waiting']);
      expect(log.map((l) => `${l.writes.join(',')} ${l.synchronous}`)).toEqual(['create leased:created+waiting FULL', 'release NORMAL']);
    } finally {
      await store.close();
    }
  });

  it('waits for the disk on a run created without a lease, an event, a failure: anything other than a start alone', async () => {
    const { store, log } = loggingStore(nextPath());
    try {
      const run = makeRun();
      await store.create(run, [entry({ event: 'created', step: null })]);
      await store.commit(run.id, patch(), [entry({ event: 'started' })]);
      await store.commit(run.id, patch(), [entry({ event: 'failed' })]);
      await store.commit(run.id, patch(), [entry({ event: 'started' }), entry({ event: 'started' })]);
      await store.commit(run.id, patch(), [entry({ event: 'event' }), entry({ event: 'started' })]);
      await store.commit(run.id, patch(), []);
      expect(log).toEqual([
        { writes: ['create:created'], synchronous: 'FULL' },
        { writes: ['started'], synchronous: 'NORMAL' },
        { writes: ['failed'], synchronous: 'FULL' },
        { writes: ['started+started'], synchronous: 'NORMAL' },
        { writes: ['event+started'], synchronous: 'FULL' },
        { writes: [''], synchronous: 'FULL' },
      ]);
    } finally {
      await store.close();
    }
  });

  it('writes of one turn share a transaction that waits for the disk when any of them must', async () => {
    const { store, log } = loggingStore(nextPath());
    try {
      const a = makeRun({ id: 'run-a' });
      const b = makeRun({ id: 'run-b', lease: { owner: 'me', until: Date.now() + 60_000 } });
      await store.create(a, []);
      await Promise.all([store.create(b, []), store.commit(a.id, patch(), [entry({ event: 'started' })])]);
      await Promise.all([store.commit(b.id, patch(), [entry({ event: 'started' })]), store.commit(a.id, patch(), [entry({ event: 'completed' })])]);
      expect(log).toEqual([
        { writes: ['create:'], synchronous: 'FULL' },
        { writes: ['create leased:', 'started'], synchronous: 'NORMAL' },
        { writes: ['started', 'completed'], synchronous: 'FULL' },
      ]);
    } finally {
      await store.close();
    }
  });

  it('a deferred write is visible to another connection at once', async () => {
    const path = nextPath();
    const { store, log } = loggingStore(path);
    const probe = createSqliteStore({ path });
    try {
      const run = makeRun({ lease: { owner: 'me', until: Date.now() + 60_000 } });
      await store.create(run, [entry({ event: 'created', step: null })]);
      await store.commit(run.id, patch(), [entry({ event: 'started' })]);
      expect(log.map((l) => l.synchronous)).toEqual(['NORMAL', 'NORMAL']);
      expect((await probe.journal(run.id)).map((e) => e.event)).toEqual(['created', 'started']);
    } finally {
      await store.close();
      await probe.close();
    }
  });

  it('stores a commit that changes only the status or only the wake time (those leave the lean update for the full one)', async () => {
    const path = nextPath();
    const store = createSqliteStore({ path });
    try {
      const run = makeRun();
      await store.create(run, []);
      await store.commit(run.id, patch(), [entry()]);
      await store.commit(run.id, patch({ wakeAt: 5_000 }), [entry({ event: 'retry_scheduled' })]);
      expect(await store.get(run.id)).toMatchObject({ status: 'running', wakeAt: 5_000, revision: 2 });
      await store.commit(run.id, patch({ wakeAt: 5_000, status: 'waiting' }), [entry({ event: 'waiting' })]);
      expect(await store.get(run.id)).toMatchObject({ status: 'waiting', wakeAt: 5_000, revision: 3 });
      await store.commit(run.id, patch({ wakeAt: null, status: 'waiting' }), []);
      expect(await store.get(run.id)).toMatchObject({ status: 'waiting', wakeAt: null, revision: 4 });
      await store.commit(run.id, patch({ wakeAt: null, status: 'waiting', snapshot: { value: 'z' } }), []);
      expect(await store.get(run.id)).toMatchObject({ status: 'waiting', wakeAt: null, revision: 5, snapshot: { value: 'z' } });
    } finally {
      await store.close();
    }
  });
});
