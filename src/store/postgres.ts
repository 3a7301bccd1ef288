/**
 * The PostgreSQL store (`pg` Pool): for many workers on many machines. Every
 * table lives in one schema (default `stepwise`), JSON columns are JSON (kept as written, key order included),
 * workers claim runs with `FOR UPDATE SKIP LOCKED`, and migrations serialise
 * on an advisory lock so any number of workers may start at once. The store
 * migrates itself before its first query; `migrate()` may also be called.
 */
import pg from 'pg';
import { RunNotFoundError, StepwiseError } from '../errors.js';
import { redactSecrets } from '../util/redact.js';
import type { NewJournalEntry, RunRecord } from '../run/types.js';
import { MIGRATIONS_TABLE, postgresMigrations } from './migrations.js';
import {
  JOURNAL_COLUMNS, RUN_COLUMNS, byUpdatedAt, decodeParsed, json, journalValues, runValues, toJournalEntry, toRunRecord,
  type JournalRow, type RunRow,
} from './rows.js';
import { snapshotText } from './json-text.js';
import { runnableSql } from './runnable.js';
import { ConflictError, LeaseLostError, type Store, type StoreHooks } from './types.js';

export interface PostgresStoreOptions {
  /** A `postgres://` URL; a `schema` query parameter selects the schema too. */
  readonly url: string;
  /** Schema holding the tables; wins over the URL's `schema` parameter. Default `stepwise`. */
  readonly schema?: string;
  /** Maximum pool size. Default 10. */
  readonly pool?: number;
  /** Test hooks; see {@link StoreHooks}. */
  readonly hooks?: StoreHooks;
}

const JSON_RUN_COLUMNS = new Set(['definition', 'input', 'output', 'failure', 'usage', 'snapshot', 'options']);

/** Splits the `schema` query parameter off a connection URL. */
export function parsePostgresUrl(url: string): { url: string; schema: string | null } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // No cause kept: Node's URL error holds the input, password included.
    throw new StepwiseError('usage', `Not a PostgreSQL URL: "${redactSecrets(url)}". Expected postgres://user@host:5432/db[?schema=name].`);
  }
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  return { url: parsed.toString(), schema };
}

function quoteSchema(schema: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new StepwiseError('usage', `Invalid schema name "${schema}": use letters, digits and underscores, not starting with a digit.`);
  }
  return `"${schema}"`;
}

function values(count: number, width: number, casts: ReadonlyMap<number, string> = new Map()): string {
  return Array.from({ length: count }, (_, row) =>
    `(${Array.from({ length: width }, (_, col) => `$${row * width + col + 1}${casts.get(col) ?? ''}`).join(', ')})`,
  ).join(', ');
}

/**
 * Creates a PostgreSQL store over a connection pool. Connections open lazily;
 * the schema is created and migrated before the first query.
 *
 * @example
 * const store = createPostgresStore({ url: 'postgres://postgres@127.0.0.1:5432/app', schema: 'stepwise' });
 * const runs = await store.claim({ owner: 'worker-1', now: Date.now(), leaseMs: 30_000, limit: 10 });
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const parsed = parsePostgresUrl(options.url);
  const schemaName = options.schema ?? parsed.schema ?? 'stepwise';
  const q = quoteSchema(schemaName);
  const pool = new pg.Pool({ connectionString: parsed.url, max: options.pool ?? 10 });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});

  const runCasts = new Map(RUN_COLUMNS.flatMap((c, i) => (JSON_RUN_COLUMNS.has(c) ? [[i, '::json'] as const] : [])));
  const journalCasts = new Map([[JOURNAL_COLUMNS.indexOf('payload'), '::json']]);
  const RUNNABLE = runnableSql('$1');

  async function transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async function applyMigrations(): Promise<void> {
    await transaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`stepwise:migrate:${schemaName}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${q}.${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`);
      const { rows } = await client.query<{ v: number }>(`SELECT COALESCE(MAX(version), 0)::int AS v FROM ${q}.${MIGRATIONS_TABLE}`);
      const current = rows[0]?.v ?? 0;
      const pending = postgresMigrations(q).slice(current);
      for (const [i, sql] of pending.entries()) {
        await client.query(sql);
        await client.query(`INSERT INTO ${q}.${MIGRATIONS_TABLE} (version, applied_at) VALUES ($1, $2)`, [current + i + 1, Date.now()]);
      }
    });
  }

  let ready: Promise<void> | null = null;
  function migrate(): Promise<void> {
    const attempt = applyMigrations();
    ready = attempt.catch((error: unknown) => {
      ready = null;
      throw error;
    });
    return ready;
  }
  async function query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    await (ready ?? migrate());
    return pool.query<R>(sql, params);
  }
  async function inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await (ready ?? migrate());
    return transaction(work);
  }

  async function appendJournal(client: pg.PoolClient, runId: string, first: number, journal: readonly NewJournalEntry[]) {
    if (journal.length === 0) return;
    const params = journal.flatMap((entry, i) => journalValues(runId, first + i, entry));
    await client.query(
      `INSERT INTO ${q}.journal (${JOURNAL_COLUMNS.join(', ')}) VALUES ${values(journal.length, JOURNAL_COLUMNS.length, journalCasts)}`,
      params,
    );
  }

  const toRun = (row: RunRow): RunRecord => toRunRecord(row, decodeParsed);
  let closing: Promise<void> | null = null;

  return {
    kind: 'postgres',
    migrate,

    create(run, journal) {
      return inTransaction(async (client) => {
        const inserted = await client.query<RunRow>(
          `INSERT INTO ${q}.runs (${RUN_COLUMNS.join(', ')}) VALUES ${values(1, RUN_COLUMNS.length, runCasts)}
           ON CONFLICT (id) DO NOTHING RETURNING *`,
          runValues(run),
        );
        const row = inserted.rows[0];
        if (row) {
          await appendJournal(client, run.id, 1, journal);
          return { run: toRun(row), created: true };
        }
        const existing = await client.query<RunRow>(`SELECT * FROM ${q}.runs WHERE id = $1`, [run.id]);
        return { run: toRun(existing.rows[0] as RunRow), created: false };
      });
    },

    async get(runId) {
      const { rows } = await query<RunRow>(`SELECT * FROM ${q}.runs WHERE id = $1`, [runId]);
      return rows[0] ? toRun(rows[0]) : null;
    },

    async list(filter = {}) {
      const { rows } = await query<RunRow>(
        `SELECT * FROM ${q}.runs WHERE ($1::text[] IS NULL OR status = ANY($1)) AND ($2::text IS NULL OR workflow = $2)
           AND ($4::text IS NULL OR starts_with(id, $4))
         ORDER BY created_at DESC, id LIMIT $3`,
        [filter.status ?? null, filter.workflow ?? null, filter.limit ?? null, filter.idPrefix ?? null],
      );
      return rows.map(toRun);
    },

    commit(runId, patch, journal, expectRevision, owner) {
      return inTransaction(async (client) => {
        const updated = await client.query<RunRow>(
          `UPDATE ${q}.runs SET status = $2, snapshot = $3::json, output = COALESCE($4::json, output), failure = $5::json,
             usage = $6::json, wake_at = $7, options = COALESCE($8::json, options), updated_at = $9, revision = revision + 1
           WHERE id = $1 AND ($10::int IS NULL OR revision = $10) AND ($11::text IS NULL OR lease_owner = $11) RETURNING *`,
          [
            runId, patch.status, snapshotText(patch.snapshot), patch.output === undefined ? null : json(patch.output),
            patch.failure ? json(patch.failure) : null, json(patch.usage), patch.wakeAt,
            patch.options === undefined ? null : json(patch.options), Date.now(), expectRevision ?? null, owner ?? null,
          ],
        );
        const row = updated.rows[0];
        if (!row) {
          const current = await client.query<{ revision: number; lease_owner: string | null }>(
            `SELECT revision, lease_owner FROM ${q}.runs WHERE id = $1`,
            [runId],
          );
          const stored = current.rows[0];
          if (stored === undefined) throw new RunNotFoundError(runId);
          if (owner !== undefined && stored.lease_owner !== owner) throw new LeaseLostError(runId, owner, stored.lease_owner);
          throw new ConflictError(runId, expectRevision ?? stored.revision, stored.revision);
        }
        options.hooks?.midCommit?.();
        if (journal.length > 0) {
          // A new statement after the row lock: sees every journal row committed before it.
          const max = await client.query<{ n: number }>(`SELECT COALESCE(MAX(seq), 0)::int AS n FROM ${q}.journal WHERE run_id = $1`, [runId]);
          await appendJournal(client, runId, (max.rows[0]?.n ?? 0) + 1, journal);
        }
        return toRun(row);
      });
    },

    async journal(runId) {
      const { rows } = await query<JournalRow>(`SELECT * FROM ${q}.journal WHERE run_id = $1 ORDER BY seq`, [runId]);
      return rows.map((row) => toJournalEntry(row, decodeParsed));
    },

    async claim({ owner, now, leaseMs, limit, exclude = [] }) {
      if (limit <= 0) return [];
      const { rows } = await query<RunRow>(
        `WITH picked AS MATERIALIZED (
           SELECT id FROM ${q}.runs WHERE ${RUNNABLE} AND NOT (id = ANY($5::text[])) ORDER BY updated_at, id LIMIT $4 FOR UPDATE SKIP LOCKED
         )
         UPDATE ${q}.runs AS r SET lease_owner = $2, lease_until = $3 FROM picked WHERE r.id = picked.id RETURNING r.*`,
        [now, owner, now + leaseMs, limit, exclude],
      );
      return rows.map(toRun).sort(byUpdatedAt);
    },

    async renew(runId, owner, until) {
      const { rowCount } = await query(`UPDATE ${q}.runs SET lease_until = $3 WHERE id = $1 AND lease_owner = $2`, [runId, owner, until]);
      return (rowCount ?? 0) > 0;
    },

    async release(runId, owner) {
      await query(`UPDATE ${q}.runs SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2`, [runId, owner]);
    },

    async acquire(runId, owner, now, leaseMs, replacing) {
      const { rowCount } = await query(
        `UPDATE ${q}.runs SET lease_owner = $2, lease_until = $3 WHERE id = $1
           AND (lease_owner IS NULL OR lease_until < $4 OR lease_owner = $2 OR lease_owner = $5)`,
        [runId, owner, now + leaseMs, now, replacing ?? null],
      );
      return (rowCount ?? 0) > 0;
    },

    async prune({ olderThan, statuses }) {
      if (statuses.length === 0) return 0;
      const { rowCount } = await query(`DELETE FROM ${q}.runs WHERE updated_at < $1 AND status = ANY($2::text[])`, [olderThan, statuses]);
      return rowCount ?? 0;
    },

    async readShared<T>(key: string): Promise<T | null> {
      const { rows } = await query<{ value: unknown }>(`SELECT value FROM ${q}.shared WHERE key = $1`, [key]);
      return (rows[0]?.value ?? null) as T | null;
    },

    updateShared<T>(key: string, update: (current: T | null) => T): Promise<T> {
      return inTransaction(async (client) => {
        await client.query(`INSERT INTO ${q}.shared (key, value, updated_at) VALUES ($1, NULL, $2) ON CONFLICT (key) DO NOTHING`, [key, Date.now()]);
        const { rows } = await client.query<{ value: unknown }>(`SELECT value FROM ${q}.shared WHERE key = $1 FOR UPDATE`, [key]);
        const next = update((rows[0]?.value ?? null) as T | null);
        await client.query(`UPDATE ${q}.shared SET value = $2::jsonb, updated_at = $3 WHERE key = $1`, [key, json(next), Date.now()]);
        return next;
      });
    },

    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
