/**
 * The conformance suite against SQLite files in a temp directory, plus what
 * only a shared file can show: two store instances on one file, and a second
 * process updating shared state while this one does.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import * as vitest from 'vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { storeSpec } from '../../src/testing.js';
import { definition, entry, makeRun, patch } from '../../src/testing/store-fixtures.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';

const root = mkdtempSync(join(tmpdir(), 'stepwise-sqlite-'));
let n = 0;
const nextPath = () => join(root, `db-${++n}`, 'stepwise.db');
afterAll(() => rmSync(root, { recursive: true, force: true }));

storeSpec(vitest, 'sqlite', async () => {
  const store = createSqliteStore({ path: nextPath() });
  return { store, destroy: () => store.close() };
});

describe('SQLite store on a shared file', () => {
  it('calls hooks.midCommit inside the commit transaction: a throw there keeps neither the update nor the journal', async () => {
    const path = nextPath();
    const probe = createSqliteStore({ path });
    const seen: Array<Promise<number | undefined>> = [];
    let fail = false;
    const store = createSqliteStore({
      path,
      hooks: {
        midCommit: () => {
          // Another connection reads (synchronously, at this moment) the last committed revision: this commit is not visible yet.
          seen.push(probe.get(runId).then((r) => r?.revision));
          if (fail) throw new Error('crash here');
        },
      },
    });
    const run = makeRun();
    const runId = run.id;
    try {
      await store.create(run, [entry()]);
      await store.commit(run.id, patch({ status: 'waiting' }), [entry(), entry()]);
      fail = true;
      await expect(store.commit(run.id, patch({ status: 'done' }), [entry()])).rejects.toThrow('crash here');
      // The create calls it too (a started run's first commit creates it): the run is not visible yet.
      expect(await Promise.all(seen)).toEqual([undefined, 0, 1]);
      const stored = await probe.get(run.id);
      expect(stored?.status).toBe('waiting');
      expect(stored?.revision).toBe(1);
      expect(await probe.journal(run.id)).toHaveLength(3);
    } finally {
      await store.close();
      await probe.close();
    }
  });

  it('a throw from hooks.midCommit inside a create keeps neither the run nor its journal', async () => {
    const path = nextPath();
    const store = createSqliteStore({
      path,
      hooks: {
        midCommit: () => {
          throw new Error('crash here');
        },
      },
    });
    const run = makeRun();
    try {
      await expect(store.create(run, [entry(), entry()])).rejects.toThrow('crash here');
      expect(await store.get(run.id)).toBeNull();
      expect(await store.journal(run.id)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('group commit: a write that fails in a shared transaction is refused alone, the others commit', async () => {
    let calls = 0;
    let armed = false;
    const batches: number[] = [];
    const store = createSqliteStore({
      path: nextPath(),
      hooks: {
        midCommit: () => {
          if (armed && ++calls === 1) throw new Error('crash here');
        },
        committed: ({ writes }) => batches.push(writes),
      },
    });
    try {
      const a = makeRun();
      const b = makeRun();
      await store.create(a, [entry()]);
      await store.create(b, [entry()]);
      batches.length = 0;
      armed = true;
      const results = await Promise.allSettled([
        store.commit(a.id, patch({ status: 'waiting' }), [entry()]),
        store.commit(b.id, patch({ status: 'waiting' }), [entry()]),
      ]);
      expect(batches).toEqual([2]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
      expect((await store.get(a.id))?.status).toBe('running');
      expect(await store.journal(a.id)).toHaveLength(1);
      expect((await store.get(b.id))?.status).toBe('waiting');
      expect(await store.journal(b.id)).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it('a commit gives back the input the run was made with, also for a run pruned and made again under the same id', async () => {
    const store = createSqliteStore({ path: nextPath() });
    try {
      const run = makeRun({ input: { document: 'first' }, status: 'done', updatedAt: 1 });
      await store.create(run, []);
      expect((await store.commit(run.id, patch({ status: 'done' }), [])).input).toEqual({ document: 'first' });
      expect((await store.commit(run.id, patch({ status: 'done' }), [])).input).toEqual({ document: 'first' });
      expect(await store.prune({ olderThan: Date.now() + 1, statuses: ['done'] })).toBe(1);
      await store.create({ ...run, input: { document: 'second' } }, []);
      expect((await store.commit(run.id, patch({ status: 'done' }), [])).input).toEqual({ document: 'second' });
    } finally {
      await store.close();
    }
  });

  it('creates the directory, uses WAL and records the schema version', async () => {
    const path = nextPath();
    const store = createSqliteStore({ path, synchronous: 'NORMAL', busyTimeoutMs: 1000 });
    expect(existsSync(path)).toBe(true);
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM stepwise_migrations').pluck().all()).toEqual([1, 2]);
    db.close();
  });

  it('stores a definition once for all its runs, and prune deletes it with its last run', async () => {
    const path = nextPath();
    const store = createSqliteStore({ path });
    const other = { ...definition, source: '/defs/other.yaml' } as typeof definition;
    const [a, b, c] = [makeRun({ status: 'done' }), makeRun({ status: 'done' }), makeRun({ status: 'done', definition: other, updatedAt: 5_000 })];
    const count = () => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare('SELECT count(*) FROM definitions').pluck().get();
      } finally {
        db.close();
      }
    };
    try {
      for (const run of [a, b, c]) await store.create(run, [entry()]);
      expect(count()).toBe(2);
      expect(await store.prune({ olderThan: 2_000, statuses: ['done'] })).toBe(2);
      expect(count()).toBe(1);
      expect(await store.get(a.id)).toBeNull();
      expect(await store.get(c.id)).toEqual(c);
      const again = makeRun({ definition: other });
      await store.create(again, []);
      expect(count()).toBe(1);
      // Another instance on the file, which has parsed none of them, reads them back.
      const fresh = createSqliteStore({ path });
      try {
        expect(await fresh.get(again.id)).toEqual(again);
        expect((await fresh.commit(again.id, patch(), [entry()])).definition).toEqual(other);
      } finally {
        await fresh.close();
      }
    } finally {
      await store.close();
    }
  });

  it('lets two store instances on one file see each other and claim disjointly', async () => {
    const path = nextPath();
    const a = createSqliteStore({ path });
    const b = createSqliteStore({ path });
    try {
      const runs = Array.from({ length: 10 }, (_, i) => makeRun({ updatedAt: i }));
      for (const run of runs) await a.create(run, []);
      expect(await b.get(runs[0]!.id)).toEqual(runs[0]);
      const [fromA, fromB] = await Promise.all([
        a.claim({ owner: 'a', now: 10_000, leaseMs: 1000, limit: 6 }),
        b.claim({ owner: 'b', now: 10_000, leaseMs: 1000, limit: 6 }),
      ]);
      const ids = [...fromA, ...fromB].map((r) => r.id);
      expect(ids).toHaveLength(10);
      expect(new Set(ids).size).toBe(10);
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).updateShared<number>('c', (v) => (v ?? 0) + 1)));
      expect(await a.updateShared<number>('c', (v) => v ?? 0)).toBe(20);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('loses no shared update when another process writes concurrently', { timeout: SPAWN_BUDGET_MS }, async () => {
    const path = nextPath();
    const perProcess = 300;
    const parent = createSqliteStore({ path });
    const script = join(root, 'child.mts');
    const storeModule = pathToFileURL(resolve('src/store/sqlite.ts')).href;
    writeFileSync(
      script,
      `import { createSqliteStore } from ${JSON.stringify(storeModule)};
       const store = createSqliteStore({ path: process.argv[2] });
       process.stdout.write('ready\\n');
       for (let i = 0; i < ${perProcess}; i++) await store.updateShared('count', (v) => (v ?? 0) + 1);
       await store.close();`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', done));
    await new Promise<void>((ready, fail) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && ready());
      child.on('exit', () => fail(new Error(`child exited early: ${stderr}`)));
    });
    for (let i = 0; i < perProcess; i++) {
      await parent.updateShared<number>('count', (v) => (v ?? 0) + 1);
      if (i % 10 === 0) await new Promise((tick) => setImmediate(tick));
    }
    expect(await exited, stderr).toBe(0);
    expect(await parent.updateShared<number>('count', (v) => v ?? 0)).toBe(2 * perProcess);
    await parent.close();
  });
});
