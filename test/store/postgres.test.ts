/**
 * The conformance suite against a real PostgreSQL server (127.0.0.1:5432,
 * database `test`). Every store gets its own random schema, dropped afterwards.
 * Nothing is skipped: without a server these tests fail.
 */
import pg from 'pg';
import * as vitest from 'vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_TABLE, postgresMigrations } from '../../src/store/migrations.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/types.js';
import type { RunRecord } from '../../src/run/types.js';
import { storeSpec } from '../../src/testing.js';
import { entry, makeRun, patch } from '../../src/testing/store-fixtures.js';
import { createConnectionMeter } from '../../src/bench/postgres-meter.js';
import { PG_URL as URL, testSchemas } from '../pg.js';

const admin = new pg.Pool({ connectionString: URL, max: 2 });
afterAll(() => admin.end());

const schemas = testSchemas('store');
const randomSchema = () => schemas.name();
const dropSchema = (schema: string) => schemas.drop(schema);

storeSpec(vitest, 'postgres', async () => {
  const schema = randomSchema();
  const store = createPostgresStore({ url: URL, schema, pool: 5 });
  await store.migrate();
  return {
    store,
    async destroy() {
      await store.close();
      await dropSchema(schema);
    },
  };
});

describe('PostgreSQL store with many workers', () => {
  it('reaches the server', async () => {
    const { rows } = await admin.query<{ one: number }>('SELECT 1 AS one');
    expect(rows[0]?.one).toBe(1);
  });

  it('takes the schema from the URL and migrates itself on first use', async () => {
    const schema = randomSchema();
    const store = createPostgresStore({ url: `${URL}?schema=${schema}` });
    try {
      const run = makeRun();
      await store.create(run, []);
      const { rows } = await admin.query(`SELECT version FROM "${schema}".stepwise_migrations`);
      expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
      expect((await admin.query(`SELECT id FROM "${schema}".runs`)).rows).toEqual([{ id: run.id }]);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });

  it('migrates safely when many workers start at once', async () => {
    const schema = randomSchema();
    const stores = Array.from({ length: 6 }, () => createPostgresStore({ url: URL, schema, pool: 2 }));
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      await Promise.all(stores.map((s) => s.migrate()));
      const { rows } = await admin.query(`SELECT version FROM "${schema}".stepwise_migrations`);
      expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await dropSchema(schema);
    }
  });

  it('upgrades a version-1 (JSONB) database: its runs read back, and new writes keep their key order', async () => {
    const schema = randomSchema();
    const store = createPostgresStore({ url: URL, schema });
    try {
      // A database as version 1 left it: migration 1 only, with a run in it.
      await admin.query(`CREATE SCHEMA "${schema}"`);
      await admin.query(`CREATE TABLE "${schema}".${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`);
      await admin.query(postgresMigrations(`"${schema}"`)[0]!);
      await admin.query(`INSERT INTO "${schema}".${MIGRATIONS_TABLE} VALUES (1, 0)`);
      const types = async () =>
        (await admin.query<{ data_type: string }>(
          `SELECT DISTINCT data_type FROM information_schema.columns WHERE table_schema = $1 AND column_name IN ('output', 'usage', 'payload')`, [schema],
        )).rows.map((r) => r.data_type);
      expect(await types()).toEqual(['jsonb']);
      const run = makeRun({ output: { b: 1, a: 2 } });
      await admin.query(
        `INSERT INTO "${schema}".runs VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7::jsonb, NULL, $8::jsonb, $9::jsonb, $10::jsonb, NULL, NULL, NULL, $11, $12, $13)`,
        [run.id, run.workflow, run.version, JSON.stringify(run.definition), run.status, JSON.stringify(run.input), JSON.stringify(run.output),
          JSON.stringify(run.usage), JSON.stringify(run.snapshot), JSON.stringify(run.options), run.createdAt, run.updatedAt, run.revision],
      );
      await store.migrate();
      expect(await types()).toEqual(['json']);
      const { rows } = await admin.query(`SELECT version FROM "${schema}".${MIGRATIONS_TABLE} ORDER BY version`);
      expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
      expect(await store.get(run.id)).toEqual(run);
      const committed = await store.commit(run.id, patch({ output: { zeta: 1, alpha: 2 } }), [entry({ output: { y: 1, x: 2 } })]);
      expect(Object.keys(committed.output as object)).toEqual(['zeta', 'alpha']);
      expect(Object.keys((await store.journal(run.id))[0]?.output as object)).toEqual(['y', 'x']);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });

  it('never gives one run to two pool-backed stores claiming at once', async () => {
    const schema = randomSchema();
    const stores: Store[] = [createPostgresStore({ url: URL, schema, pool: 4 }), createPostgresStore({ url: URL, schema, pool: 4 })];
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      for (let i = 0; i < 40; i++) await stores[0]!.create(makeRun({ updatedAt: i }), []);
      const batches = await Promise.all(
        Array.from({ length: 8 }, (_, i) => stores[i % 2]!.claim({ owner: `w${i}`, now: 10_000, leaseMs: 1000, limit: 7 })),
      );
      const ids = batches.flat().map((r) => r.id);
      expect(ids).toHaveLength(40);
      expect(new Set(ids).size).toBe(40);
      await Promise.all(Array.from({ length: 30 }, (_, i) => stores[i % 2]!.updateShared<number>('c', (v) => (v ?? 0) + 1)));
      expect(await stores[1]!.updateShared<number>('c', (v) => v ?? 0)).toBe(30);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await dropSchema(schema);
    }
  });

  it('calls hooks.midCommit inside the commit transaction: a throw there keeps neither the update nor the journal', async () => {
    const schema = randomSchema();
    let calls = 0;
    let fail = false;
    const store = createPostgresStore({
      url: URL,
      schema,
      hooks: {
        midCommit: () => {
          calls++;
          if (fail) throw new Error('crash here');
        },
      },
    });
    try {
      const run = makeRun();
      await store.create(run, [entry()]);
      await store.commit(run.id, patch({ status: 'waiting' }), [entry(), entry()]);
      expect(calls).toBe(1);
      fail = true;
      await expect(store.commit(run.id, patch({ status: 'done' }), [entry()])).rejects.toThrow('crash here');
      expect(calls).toBe(2);
      const stored = await store.get(run.id);
      expect(stored?.status).toBe('waiting');
      expect(stored?.revision).toBe(1);
      expect(await store.journal(run.id)).toHaveLength(3);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });

  it('group commit: commits to several runs issued together each keep their guard, error and journal', async () => {
    const schema = randomSchema();
    const store = createPostgresStore({ url: URL, schema, pool: 1 });
    try {
      const [a, b, c] = [makeRun({ lease: { owner: 'me', until: 9_000 } }), makeRun(), makeRun({ lease: { owner: 'other', until: 9_000 } })];
      for (const run of [a, b, c]) await store.create(run, [entry()]);
      const results = await Promise.allSettled([
        store.commit(a.id, patch({ output: { n: 1 } }), [entry(), entry()], 0, 'me'),
        store.commit(b.id, patch(), [entry()], 5), // stale revision
        store.commit(c.id, patch(), [entry()], 0, 'me'), // leased to another owner
        store.commit('missing', patch(), [entry()]),
        store.commit(a.id, patch({ status: 'done', output: null }), [entry()], 1, 'me'), // the same run again: the next group
        store.commit(b.id, patch({ status: 'waiting', output: { zeta: 1, alpha: 2 } }), [entry({ output: { y: 1, x: 2 } })], 0),
      ]);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value.revision : (r.reason as Error).name))).toEqual([
        1, 'ConflictError', 'LeaseLostError', 'RunNotFoundError', 2, 1,
      ]);
      expect(await store.get(a.id)).toMatchObject({ status: 'done', output: null, revision: 2, lease: { owner: 'me', until: 9_000 } });
      expect((await store.journal(a.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      const waiting = await store.get(b.id);
      expect(waiting).toMatchObject({ status: 'waiting', revision: 1, failure: null });
      expect(Object.keys(waiting?.output as object)).toEqual(['zeta', 'alpha']); // key order kept, as in a commit alone
      const journal = await store.journal(b.id);
      expect(journal.map((e) => e.seq)).toEqual([1, 2]);
      expect(Object.keys(journal[1]?.output as object)).toEqual(['y', 'x']);
      expect(await store.get(c.id)).toMatchObject({ revision: 0 });
      expect(await store.journal(c.id)).toHaveLength(1);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });

  it('a commit to a run the store knows gets back only what it changed, alone or grouped, and returns the run as a fresh read does', async () => {
    const schema = randomSchema();
    const meter = createConnectionMeter();
    const knowing = createPostgresStore({ url: URL, schema, pool: 1, onConnect: meter.attach });
    const stranger = createPostgresStore({ url: URL, schema, pool: 1 });
    try {
      const big = { document: 'x'.repeat(4_000) }; // a fixed column: sent back only to a store that does not know the run
      const runs = [makeRun({ input: big }), makeRun({ input: big }), makeRun({ input: big })];
      for (const run of runs) await stranger.create(run, []);
      const [a, b, c] = runs as [RunRecord, RunRecord, RunRecord];
      await knowing.migrate();
      meter.reset();
      const first = await knowing.commit(a.id, patch(), [entry()], 0);
      expect(meter.totals().bytesReceived).toBeGreaterThan(4_000);
      expect(first).toEqual(await stranger.get(a.id));
      meter.reset();
      const second = await knowing.commit(a.id, patch({ output: { n: 1 }, options: { seed: 2 } }), [entry()], 1);
      expect(meter.totals().bytesReceived).toBeLessThan(1_000);
      expect(second).toEqual(await stranger.get(a.id));
      expect(second).toMatchObject({ input: big, output: { n: 1 }, options: { seed: 2 }, revision: 2 });
      // b and c become known through a get; then three commits at once: one alone, two in one group.
      await knowing.get(b.id);
      await knowing.get(c.id);
      meter.reset();
      const together = await Promise.all([
        knowing.commit(a.id, patch({ status: 'done' }), [], 2),
        knowing.commit(b.id, patch(), [entry()], 0),
        knowing.commit(c.id, patch({ wakeAt: 5 }), [], 0),
      ]);
      expect(meter.totals().statements).toEqual({ commit: 1, commit_many: 1 });
      expect(meter.totals().bytesReceived).toBeLessThan(2_000);
      for (const run of together) expect(run).toEqual(await stranger.get(run.id));
    } finally {
      await knowing.close();
      await stranger.close();
      await dropSchema(schema);
    }
  });

  it('a commit sends only the edits of the snapshot this store wrote last (alone or grouped); the run reads back whole', async () => {
    const schema = randomSchema();
    const meter = createConnectionMeter();
    const writer = createPostgresStore({ url: URL, schema, pool: 1, onConnect: meter.attach });
    const reader = createPostgresStore({ url: URL, schema, pool: 1 });
    try {
      const result = (n: number) => ({ output: { rows: Array.from({ length: 40 }, (_, i) => ({ ref: `R-${n}-${i}`, text: 'some words of a step output' })) }, status: 'done' });
      const snapshotAfter = (n: number) => ({ status: 'active', value: `s${n + 1}`, context: { steps: Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i + 1}`, result(i + 1)])), visits: { [`s${n}`]: 1 } } });
      const [a, b] = [makeRun(), makeRun()];
      for (const run of [a, b]) await writer.create(run, []);
      let revision = 0;
      for (let n = 1; n <= 4; n++) {
        meter.reset();
        // The step's journal entry holds its output, as the engine's does.
        const done = await writer.commit(a.id, patch({ snapshot: snapshotAfter(n) }), [entry({ event: 'completed', output: result(n).output })], revision, undefined);
        revision = done.revision;
        // Each commit sends the new step's output once (in its journal entry; the snapshot copies it from there), and
        // from the second on, nothing of the earlier steps' results (copied from the stored snapshot).
        const output = JSON.stringify(result(n).output).length;
        if (n > 1) expect(meter.totals().bytesSent).toBeLessThan(1.2 * output + 1_000); // the first sent the statement's text too
        expect(JSON.stringify(snapshotAfter(n)).length).toBeGreaterThan(n * output);
        expect((await reader.get(a.id))?.snapshot).toEqual(snapshotAfter(n));
        expect(done.snapshot).toEqual(snapshotAfter(n));
      }
      // Grouped: b's first commit goes whole, then a and b together with edits.
      await writer.commit(b.id, patch({ snapshot: snapshotAfter(2) }), [], 0);
      meter.reset();
      await Promise.all([
        writer.commit(b.id, patch({ snapshot: snapshotAfter(1) }), [], 1), // alone: the connection is free
        writer.commit(a.id, patch({ snapshot: snapshotAfter(5) }), [entry(), entry({ event: 'completed', output: result(5).output })], revision),
        writer.commit(b.id, patch({ snapshot: snapshotAfter(3) }), [], 2),
      ]);
      expect(meter.totals().statements).toEqual({ commit: 1, commit_many: 1 }); // the group's edits fitted: none went again alone
      expect((await reader.get(a.id))?.snapshot).toEqual(snapshotAfter(5));
      expect((await reader.get(b.id))?.snapshot).toEqual(snapshotAfter(3));
      // A stored text that no longer is what the edits assume (changed behind the store's back): the whole snapshot goes.
      await admin.query(`UPDATE "${schema}".runs SET snapshot = '{"changed":true}' WHERE id = $1`, [a.id]);
      await writer.commit(a.id, patch({ snapshot: snapshotAfter(6) }), [], revision + 1);
      expect((await reader.get(a.id))?.snapshot).toEqual(snapshotAfter(6));
    } finally {
      await writer.close();
      await reader.close();
      await dropSchema(schema);
    }
  });

  it('keeps every journal contiguous when three stores group commits to the same runs at once (clashing groups are retried alone, then locked)', async () => {
    const schema = randomSchema();
    const stores = [createPostgresStore({ url: URL, schema, pool: 2 }), createPostgresStore({ url: URL, schema, pool: 2 }), createPostgresStore({ url: URL, schema, pool: 1 })];
    try {
      const runs = Array.from({ length: 4 }, () => makeRun());
      for (const run of runs) await stores[0]!.create(run, []);
      await Promise.all(
        stores.flatMap((store) => Array.from({ length: 5 }, () => runs.map((run) => store.commit(run.id, patch(), [entry(), entry()])))).flat(),
      );
      for (const run of runs) {
        expect((await stores[1]!.journal(run.id)).map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        expect((await stores[1]!.get(run.id))?.revision).toBe(15);
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await dropSchema(schema);
    }
  });

  it('keeps the journal contiguous under concurrent commits to one run', async () => {
    const schema = randomSchema();
    const store = createPostgresStore({ url: URL, schema, pool: 6 });
    try {
      const run = makeRun();
      await store.create(run, []);
      const entry = { step: 'a', visit: 1, attempt: 1, event: 'started', at: 1 } as const;
      const patch = { status: 'running', snapshot: {}, failure: null, usage: run.usage, wakeAt: null } as const;
      await Promise.all(Array.from({ length: 12 }, () => store.commit(run.id, patch, [entry, entry])));
      expect((await store.journal(run.id)).map((e) => e.seq)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
      expect((await store.get(run.id))?.revision).toBe(12);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });
});

describe('PostgreSQL store when the server picks its commit as a deadlock victim', () => {
  it('retries the commit, which then writes once and numbers its journal after the other transaction', async () => {
    const schema = randomSchema();
    const store = createPostgresStore({ url: URL, schema, pool: 1 });
    const other = new pg.Client({ connectionString: URL });
    await other.connect();
    try {
      const run = makeRun();
      await store.create(run, []);
      // The other transaction never runs the deadlock check first: the store's statement is the victim.
      await other.query(`SET deadlock_timeout = '600s'`);
      await other.query('BEGIN');
      await other.query(`INSERT INTO "${schema}".journal (run_id, seq, visit, attempt, event, at) VALUES ($1, 1, 1, 1, 'started', 1)`, [run.id]);
      const committing = store.commit(run.id, patch(), [entry()]);
      const settled = committing.then(() => 'ok', (error: unknown) => error);
      // Wait until the store's statement holds the run's row and waits on the other's journal row.
      for (;;) {
        const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.pid <> $1 AND strpos(a.query, $2) > 0`,
          [(other as unknown as { processID: number }).processID, schema],
        );
        if ((rows[0]?.n ?? 0) > 0) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Now the other transaction wants the run's row: a cycle, which the server breaks by aborting the store's statement.
      await other.query(`UPDATE "${schema}".runs SET status = status WHERE id = $1`, [run.id]);
      await other.query('COMMIT');
      expect(await settled).toBe('ok');
      expect((await store.journal(run.id)).map((e) => e.seq)).toEqual([1, 2]);
      expect((await store.get(run.id))?.revision).toBe(run.revision + 1);
    } finally {
      await other.end();
      await store.close();
      await dropSchema(schema);
    }
  });
});
