/**
 * The PostgreSQL store (`pg` Pool): for many workers on many machines. Every
 * table lives in one schema (default `stepwise`), JSON columns are JSON (kept as written, key order included),
 * workers claim runs with `FOR UPDATE SKIP LOCKED`, and migrations serialise
 * on an advisory lock so any number of workers may start at once. The store
 * migrates itself before its first query; `migrate()` may also be called.
 *
 * The hot path is one round trip per call: `commit` and `create` are each a
 * single statement (a CTE updating or inserting the run and inserting its
 * journal rows from arrays), atomic without BEGIN/COMMIT, and hot statements
 * are prepared once per connection. Only a commit that met a concurrent
 * journal append (a duplicate `seq`, which rolled the whole statement back)
 * or that runs with a `midCommit` hook takes the transaction of several
 * statements. Runs left claimable wake idle workers through LISTEN/NOTIFY
 * (./postgres-notify.ts).
 *
 * Bytes are spent only where they carry news. A claim also releases the runs
 * the worker finished and reads the claimed runs' cancel requests (the
 * `claimReleases` capability). A commit to a run the store knows
 * (./known-runs.ts) does not get its fixed columns back, and sends its
 * snapshot as edits (./snapshot-delta.ts): the step results the stored text
 * already has, and the new step's output that its journal entry carries, are
 * copied on the server instead of sent again.
 */
import pg from 'pg';
import { RunNotFoundError, StepwiseError } from '../errors.js';
import { redactSecrets } from '../util/redact.js';
import type { NewJournalEntry, RunPatch, RunRecord } from '../run/types.js';
import { MIGRATIONS_TABLE, postgresMigrations } from './migrations.js';
import { createRunnableListener, notifyWhenRunnable, runnableChannel } from './postgres-notify.js';
import {
  JOURNAL_COLUMNS, RUN_COLUMNS, byUpdatedAt, decodeParsed, decodeText, json, journalPayload, journalValues, payloadText, runValues, toJournalEntry, toRunRecord,
  type DecodeJson, type JournalRow, type RunRow,
} from './rows.js';
import { snapshotPieces, snapshotText } from './json-text.js';
import { deltaJson, snapshotDelta, writtenSnapshots, type SnapshotDelta } from './snapshot-delta.js';
import { knownRuns, type FixedColumns } from './known-runs.js';
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
  /** Called with each new pool connection before its first statement (the bench meters statements and bytes with it). */
  readonly onConnect?: (client: pg.PoolClient) => void;
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

/** The unique violation of the journal's primary key: a concurrent commit appended to the same run first. */
function isJournalSeqClash(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === '23505' && 'table' in error && error.table === 'journal';
}

/** The server broke a lock cycle by aborting this statement's transaction (`deadlock_detected`): nothing was written. */
function isDeadlock(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === '40P01';
}

/** How often a commit the server picked as a deadlock victim is tried again (each try writes all or nothing). */
const DEADLOCK_RETRIES = 5;

/** Where {@link journalArrays} has the payload texts. */
const JOURNAL_PAYLOAD = 5;

/** The journal entries as one array per column (seq left out), for `unnest`. */
function journalArrays(journal: readonly NewJournalEntry[]): unknown[][] {
  const columns: unknown[][] = [[], [], [], [], [], []];
  for (const entry of journal) {
    // journalValues: [run_id, seq, step, visit, attempt, event, at, payload]
    const row = journalValues('', 0, entry);
    for (let i = 0; i < columns.length; i++) columns[i]?.push(row[i + 2]);
  }
  return columns;
}

/**
 * Definitions parsed once per distinct text: rows carry the run's (unchanging)
 * definition as text (`definition::text`), and parsing it on every commit and
 * claim would be most of the decoding work. Bounded; cleared when full.
 */
const definitionCache = new Map<string, unknown>();
const decodeDefinition: DecodeJson = (column) => {
  if (typeof column !== 'string') return decodeParsed(column);
  let parsed = definitionCache.get(column);
  if (parsed === undefined) {
    if (definitionCache.size >= 256) definitionCache.clear();
    parsed = decodeText(column);
    definitionCache.set(column, parsed);
  }
  return parsed;
};

/** The columns of a run row as selected: the definition as text, for {@link decodeDefinition}. */
const runSelect = (alias = '') => RUN_COLUMNS.map((c) => (c === 'definition' ? `${alias}definition::text AS definition` : `${alias}${c}`)).join(', ');

/** What the transaction of several statements returns from a commit: the columns the patch does not set. */
const COMMIT_RETURNING = 'id, workflow, version, definition::text AS definition, status, input, output, options, lease_owner, lease_until, created_at, updated_at, revision';

/**
 * What a one-statement commit returns (`r` the runs row's alias): the columns it changes and the lease; the fixed
 * columns only when `lean` is not true (a run the store does not know yet, ./known-runs.ts, or whose created_at is not
 * the one it knows: its id was pruned and used again); `output` and `options` only
 * when the patch did not set them. The columns left out come back NULL (a definition is never NULL otherwise).
 */
function commitReturning(r: string, lean: string, outputSet: string, optionsSet: string): string {
  return [
    ...['id', 'status', 'lease_owner', 'lease_until', 'updated_at', 'revision'].map((c) => `${r}${c}`),
    ...['workflow', 'version', 'input', 'created_at'].map((c) => `CASE WHEN ${lean} THEN NULL ELSE ${r}${c} END AS ${c}`),
    `CASE WHEN ${lean} THEN NULL ELSE ${r}definition::text END AS definition`,
    `CASE WHEN ${outputSet} THEN NULL ELSE ${r}output END AS output`,
    `CASE WHEN ${optionsSet} THEN NULL ELSE ${r}options END AS options`,
  ].join(', ');
}

/**
 * The committed run: its returned row with the patch's own values (not read back, not parsed again), and the fixed
 * columns of a run the store knows when the row left them out.
 */
function committed(row: RunRow, patch: RunPatch, fixed: FixedColumns | undefined): RunRecord {
  const lean = fixed !== undefined && row.definition == null;
  const stored = toRunRecord({ ...row, failure: null, usage: null, snapshot: null, wake_at: null, ...(lean ? { created_at: fixed.createdAt } : {}) }, decodeParsed, decodeDefinition);
  return {
    ...stored,
    ...(lean ? { workflow: fixed.workflow, version: fixed.version, definition: fixed.definition, input: fixed.input } : {}),
    output: patch.output !== undefined ? patch.output : stored.output,
    options: patch.options ?? stored.options,
    failure: patch.failure, usage: patch.usage, snapshot: patch.snapshot ?? null, wakeAt: patch.wakeAt,
  };
}

/** Most commits one group-commit statement carries. */
const MAX_GROUP = 64;

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
  const poolSize = options.pool ?? 10;
  const pool = new pg.Pool({ connectionString: parsed.url, max: poolSize });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  if (options.onConnect) pool.on('connect', options.onConnect);

  /** Runs whose fixed columns this store has seen: their commits do not send them back. */
  const known = knownRuns();
  /** The snapshot text this store committed last per run: the next commit sends what changed (./snapshot-delta.ts). */
  const written = writtenSnapshots();
  /**
   * A commit's snapshot text, and its edits of the text the run's last commit from this store wrote (when that is the
   * revision it expects) and of its journal entries' payload texts (`payloads`; null: the whole snapshot, no edits).
   */
  function snapshotOf(c: Commit, payloads: ReadonlyArray<string | null> | null): { text: string; delta: SnapshotDelta | null } {
    const pieces = snapshotPieces(c.patch.snapshot);
    const text = pieces.join('');
    if (payloads === null) return { text, delta: null };
    const last = c.expectRevision === undefined ? undefined : written.get(c.runId);
    return { text, delta: snapshotDelta(last !== undefined && last.revision === c.expectRevision ? last.text : null, pieces, payloads) };
  }
  const runCasts = new Map(RUN_COLUMNS.flatMap((c, i) => (JSON_RUN_COLUMNS.has(c) ? [[i, '::json'] as const] : [])));
  const journalCasts = new Map([[JOURNAL_COLUMNS.indexOf('payload'), '::json']]);
  const RUNNABLE = runnableSql('$1');
  const channel = runnableChannel(schemaName);
  const runnable = createRunnableListener(parsed.url, channel);
  /** Journal rows from the column arrays at `$first`…`$first+5`, numbered from 1 by `i`. */
  const journalFrom = (first: number) =>
    `unnest($${first}::text[], $${first + 1}::int[], $${first + 2}::int[], $${first + 3}::text[], $${first + 4}::bigint[], $${first + 5}::text[])
       WITH ORDINALITY AS e(step, visit, attempt, event, at, payload, i)`;
  const JOURNAL_INSERT = `INSERT INTO ${q}.journal (${JOURNAL_COLUMNS.join(', ')})`;
  const COMMIT_SET = `status = $2, snapshot = $3::json, output = COALESCE($4::json, output), failure = $5::json,
             usage = $6::json, wake_at = $7, options = COALESCE($8::json, options), updated_at = $9, revision = revision + 1`;
  const COMMIT_WHERE = `id = $1 AND ($10::int IS NULL OR revision = $10) AND ($11::text IS NULL OR lease_owner = $11)`;
  // One statement: the guarded update, then the journal numbered after the run's last entry. Atomic on its own.
  // The snapshot from $3, or made by the edits in $20…$23 (./snapshot-delta.ts) from the stored text and the journal payloads ($17).
  // Edits of a stored text other than the one they were made from ($24, its MD5) fail the statement (text that is not
  // JSON, made from the row so that it is not folded at plan time), and the commit goes again with the whole snapshot.
  const SNAPSHOT_EDITED = `CASE WHEN $20::int[] IS NULL THEN $3::json WHEN $24::text IS NOT NULL AND md5(snapshot::text) <> $24::text THEN ('stale snapshot of ' || id)::json ELSE (
         SELECT string_agg(CASE WHEN o.len IS NULL THEN o.lit ELSE substr(CASE WHEN o.src = 0 THEN snapshot::text ELSE ($17::text[])[o.src] END, o.pos, o.len) END, '' ORDER BY o.i)
         FROM unnest($23::int[], $20::int[], $21::int[], $22::text[]) WITH ORDINALITY AS o(src, pos, len, lit, i))::json END`;
  const COMMIT_ONE = `WITH upd AS (UPDATE ${q}.runs SET ${COMMIT_SET.replace('snapshot = $3::json', `snapshot = ${SNAPSHOT_EDITED}`)} WHERE ${COMMIT_WHERE}
         RETURNING ${commitReturning('', 'created_at = $19::bigint', '$4::json IS NOT NULL', '$8::json IS NOT NULL')}),
       appended AS (
         ${JOURNAL_INSERT}
         SELECT upd.id, base.n + e.i, e.step, e.visit, e.attempt, e.event, e.at, e.payload::json
         FROM upd, (SELECT COALESCE(MAX(seq), 0) AS n FROM ${q}.journal WHERE run_id = $1) AS base, ${journalFrom(12)}
       )
     SELECT upd.*, ${notifyWhenRunnable('upd', '$18')} AS notified FROM upd`;
  const CREATE_ONE = `WITH ins AS (
         INSERT INTO ${q}.runs (${RUN_COLUMNS.join(', ')}) VALUES ${values(1, RUN_COLUMNS.length, runCasts)}
         ON CONFLICT (id) DO NOTHING RETURNING ${runSelect()}
       ),
       appended AS (
         ${JOURNAL_INSERT}
         SELECT ins.id, e.i, e.step, e.visit, e.attempt, e.event, e.at, e.payload::json FROM ins, ${journalFrom(RUN_COLUMNS.length + 1)}
       )
     SELECT ins.*, ${notifyWhenRunnable('ins', `$${RUN_COLUMNS.length + 7}`)} AS notified FROM ins`;
  // Releases (ClaimOptions.release; a run left runnable notifies), picks and leases, and reads each claimed run's
  // shared value at `$8 || id` (ClaimOptions.prefetchShared): one statement. The pick skips the released runs, whose
  // rows this statement is already updating.
  const CLAIM = `WITH released AS (
         UPDATE ${q}.runs SET lease_owner = NULL, lease_until = NULL WHERE id = ANY($6::text[]) AND lease_owner = $2
         RETURNING CASE WHEN status = 'running' THEN (SELECT true FROM pg_notify($7, id)) END AS notified
       ),
       picked AS MATERIALIZED (
         SELECT id FROM ${q}.runs WHERE ${RUNNABLE} AND (options->'parent') IS NULL AND NOT (id = ANY($5::text[])) AND NOT (id = ANY($6::text[]))
         ORDER BY updated_at, id LIMIT $4 FOR UPDATE SKIP LOCKED
       ),
       claimed AS (
         UPDATE ${q}.runs AS r SET lease_owner = $2, lease_until = $3 FROM picked WHERE r.id = picked.id RETURNING ${runSelect('r.')}
       )
     SELECT claimed.*, s.value AS prefetched FROM claimed LEFT JOIN ${q}.shared AS s ON s.key = $8::text || claimed.id`;
  // Several commits to different runs in one statement: the runs and the journal entries as JSON records, `k` tying
  // an entry to its run. A `json` field keeps its text as written; JSON null comes out as SQL NULL, hence the
  // `*_set` flags and the `'null'` defaults.
  const COMMIT_MANY = `WITH x AS (
         SELECT * FROM json_to_recordset($1::json) AS x(k int, id text, status text, snapshot json, output_set boolean, output json,
           failure json, usage json, wake_at bigint, options_set boolean, options json, expect int, owner text, born bigint, edits json, base text)
       ),
       upd AS (
         UPDATE ${q}.runs AS r SET status = x.status,
           snapshot = CASE WHEN x.edits IS NULL THEN COALESCE(x.snapshot, 'null'::json)
             WHEN x.base IS NOT NULL AND md5(r.snapshot::text) <> x.base THEN ('stale snapshot of ' || r.id)::json ELSE (
             SELECT string_agg(CASE WHEN json_typeof(o.e) = 'string' THEN o.e #>> '{}' ELSE substr(
               CASE WHEN (o.e->>0)::int = 0 THEN r.snapshot::text ELSE (
                 SELECT j.payload::text FROM json_to_recordset($2::json) AS j(k int, i int, payload json) WHERE j.k = x.k AND j.i = (o.e->>0)::int
               ) END, (o.e->>1)::int, (o.e->>2)::int) END, '' ORDER BY o.i)
             FROM json_array_elements(x.edits) WITH ORDINALITY AS o(e, i))::json END,
           output = CASE WHEN x.output_set THEN COALESCE(x.output, 'null'::json) ELSE r.output END,
           failure = x.failure, usage = COALESCE(x.usage, 'null'::json), wake_at = x.wake_at,
           options = CASE WHEN x.options_set THEN COALESCE(x.options, 'null'::json) ELSE r.options END,
           updated_at = $3, revision = r.revision + 1
         FROM x WHERE r.id = x.id AND (x.expect IS NULL OR r.revision = x.expect) AND (x.owner IS NULL OR r.lease_owner = x.owner)
         RETURNING x.k, ${commitReturning('r.', 'r.created_at = x.born', 'x.output_set', 'x.options_set')}
       ),
       appended AS (
         ${JOURNAL_INSERT}
         SELECT upd.id, COALESCE((SELECT MAX(seq) FROM ${q}.journal AS j WHERE j.run_id = upd.id), 0) + e.i,
           e.step, e.visit, e.attempt, e.event, e.at, e.payload
         FROM upd JOIN json_to_recordset($2::json) AS e(k int, i int, step text, visit int, attempt int, event text, at bigint, payload json)
           ON e.k = upd.k
       )
     SELECT upd.*, ${notifyWhenRunnable('upd', '$4')} AS notified FROM upd`;
  const commitParams = (runId: string, patch: RunPatch, expectRevision: number | undefined, owner: string | undefined, snapshot: string | null): unknown[] => [
    runId, patch.status, snapshot, patch.output === undefined ? null : json(patch.output),
    patch.failure ? json(patch.failure) : null, json(patch.usage), patch.wakeAt,
    patch.options === undefined ? null : json(patch.options), Date.now(), expectRevision ?? null, owner ?? null,
  ];

  /**
   * Statements on one checked-out client, in a transaction. While it is checked out the pool does not listen for
   * the client's 'error' (only idle clients are its), and a connection that dies under it (the server terminated
   * it, a failover) would emit one with no listener and end the process: this listens instead, the statement in
   * flight fails with the error, and the broken connection leaves the pool.
   */
  async function transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken ??= error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (broken === undefined) {
        await client.query('ROLLBACK').catch((failed: unknown) => {
          broken ??= failed instanceof Error ? failed : new Error(String(failed));
        });
      }
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
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
  /** A query; with `name`, prepared once per connection (hot statements whose text never changes). */
  async function query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], name?: string): Promise<pg.QueryResult<R>> {
    await (ready ?? migrate());
    return pool.query<R>(name === undefined ? { text: sql, values: params } : { name, text: sql, values: params });
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

  /** A commit and what it needs, as the group-commit queue holds it. */
  interface Commit {
    readonly runId: string;
    readonly patch: RunPatch;
    readonly journal: readonly NewJournalEntry[];
    readonly expectRevision: number | undefined;
    readonly owner: string | undefined;
  }

  /**
   * The transaction of several statements: numbers the journal after the row lock, and calls the midCommit hook.
   * Tried again when the server aborted it to break a deadlock (it wrote nothing then).
   */
  async function commitLocked(c: Commit): Promise<RunRecord> {
    for (let tries = 1; ; tries++) {
      try {
        return await commitLockedOnce(c);
      } catch (error) {
        if (!isDeadlock(error) || tries >= DEADLOCK_RETRIES) throw error;
      }
    }
  }

  function commitLockedOnce(c: Commit): Promise<RunRecord> {
    written.forget(c.runId);
    return inTransaction(async (client) => {
      const updated = await client.query<RunRow>(
        `UPDATE ${q}.runs SET ${COMMIT_SET} WHERE ${COMMIT_WHERE} RETURNING ${COMMIT_RETURNING}`,
        commitParams(c.runId, c.patch, c.expectRevision, c.owner, snapshotText(c.patch.snapshot)),
      );
      const row = updated.rows[0];
      if (!row) throw await refusal(client, c.runId, c.expectRevision, c.owner);
      options.hooks?.midCommit?.();
      if (c.journal.length > 0) {
        // A new statement after the row lock: sees every journal row committed before it.
        const max = await client.query<{ n: number }>(`SELECT COALESCE(MAX(seq), 0)::int AS n FROM ${q}.journal WHERE run_id = $1`, [c.runId]);
        await appendJournal(client, c.runId, (max.rows[0]?.n ?? 0) + 1, c.journal);
      }
      if (row.status === 'running' && row.lease_owner === null) await client.query(`SELECT pg_notify($1, $2)`, [channel, c.runId]);
      return committed(row, c.patch, undefined);
    });
  }

  /** One commit in one statement; falls back to {@link commitLocked} when a concurrent commit to the run appended first. */
  async function commitAlone(c: Commit, whole = false): Promise<RunRecord> {
    const fixed = known.get(c.runId);
    const journal = journalArrays(c.journal);
    // The payload texts the journal column gets are the ones the edits copy from: serialised once.
    const snapshot = snapshotOf(c, whole ? null : (journal[JOURNAL_PAYLOAD] as Array<string | null>));
    const { delta } = snapshot;
    try {
      const updated = await query<RunRow>(
        COMMIT_ONE,
        [
          ...commitParams(c.runId, c.patch, c.expectRevision, c.owner, delta ? null : snapshot.text), ...journal, channel, fixed?.createdAt ?? null,
          delta?.pos ?? null, delta?.len ?? null, delta?.lit ?? null, delta?.src ?? null, delta?.base ?? null,
        ],
        'stepwise_commit',
      );
      const row = updated.rows[0];
      if (row) {
        written.set(c.runId, Number(row.revision), snapshot.text);
        return remembered(committed(row, c.patch, fixed), row.definition == null ? fixed : undefined);
      }
      throw await refusal(pool, c.runId, c.expectRevision, c.owner);
    } catch (error) {
      // Edits the stored text did not fit (it cannot change without a new revision, but a store must not trust
      // that blindly): the server refused the result and wrote nothing; the whole snapshot goes instead.
      if (delta && error instanceof pg.DatabaseError && !isJournalSeqClash(error) && !isDeadlock(error)) {
        written.forget(c.runId);
        return commitAlone(c, true);
      }
      // The statement numbered its journal from a snapshot taken before it waited on the run's row, and a
      // concurrent commit appended first, or waited on that commit's journal row while holding the run's row
      // and was aborted to break the cycle: nothing was written; the transaction numbers after the lock.
      if (!isJournalSeqClash(error) && !isDeadlock(error)) throw error;
      return commitLocked(c);
    }
  }

  /**
   * Commits to different runs in one statement, so one transaction and one fsync. Each keeps its own guard: a
   * refused one is just not updated (and then explained). An error the server reports (a journal seq clash, a
   * deadlock with another group) failed the statement as a whole, writing nothing: each is then tried alone.
   * Any other error (the connection broke) may have come after the commit: every commit of the group gets it.
   */
  async function commitMany(batch: readonly Commit[]): Promise<Array<PromiseSettledResult<RunRecord>>> {
    // JSON values go in as they are (serialised once, with the rest), not as text inside JSON.
    const fixed = batch.map((c) => known.get(c.runId));
    const snapshots = batch.map((c) => snapshotOf(c, c.journal.map(payloadText)));
    const runs = batch.map((c, k) => ({
      k, id: c.runId, status: c.patch.status, snapshot: snapshots[k]?.delta ? null : c.patch.snapshot,
      edits: snapshots[k]?.delta ? deltaJson(snapshots[k].delta) : null, base: snapshots[k]?.delta?.base ?? null, output_set: c.patch.output !== undefined, output: c.patch.output,
      failure: c.patch.failure, usage: c.patch.usage, wake_at: c.patch.wakeAt, options_set: c.patch.options !== undefined, options: c.patch.options,
      expect: c.expectRevision ?? null, owner: c.owner ?? null, born: fixed[k]?.createdAt ?? null,
    }));
    const entries = batch.flatMap((c, k) =>
      c.journal.map((entry, i) => ({
        k, i: i + 1, step: entry.step ?? null, visit: entry.visit, attempt: entry.attempt, event: entry.event, at: entry.at, payload: journalPayload(entry),
      })),
    );
    let rows: Array<RunRow & { k: number }>;
    try {
      rows = (await query<RunRow & { k: number }>(COMMIT_MANY, [JSON.stringify(runs), JSON.stringify(entries), Date.now(), channel], 'stepwise_commit_many')).rows;
    } catch (error) {
      if (error instanceof pg.DatabaseError) return Promise.allSettled(batch.map((c) => commitAlone(c)));
      return batch.map(() => ({ status: 'rejected', reason: error }));
    }
    const byK = new Map(rows.map((row) => [row.k, row]));
    return Promise.allSettled(
      batch.map(async (c, k) => {
        const row = byK.get(k);
        if (row) {
          written.set(c.runId, Number(row.revision), snapshots[k]?.text ?? '');
          return remembered(committed(row, c.patch, fixed[k]), row.definition == null ? fixed[k] : undefined);
        }
        throw await refusal(pool, c.runId, c.expectRevision, c.owner);
      }),
    );
  }

  /**
   * Group commit: commits wait while as many statements as the pool has connections are in flight, then go
   * together, one per run (a second commit to a run in the queue waits for the next group). None is
   * acknowledged before the statement holding it committed.
   */
  const queued: Array<Commit & { resolve: (run: RunRecord) => void; reject: (error: unknown) => void }> = [];
  let flushing = 0;
  function flushCommits(): void {
    while (queued.length > 0 && flushing < poolSize) {
      const seen = new Set<string>();
      const batch: typeof queued = [];
      for (let i = 0; i < queued.length; ) {
        const c = queued[i] as (typeof queued)[number];
        if (seen.has(c.runId) || batch.length >= MAX_GROUP) {
          i++;
          continue;
        }
        seen.add(c.runId);
        batch.push(c);
        queued.splice(i, 1);
      }
      flushing++;
      const settled = batch.length === 1 ? Promise.allSettled(batch.map((c) => commitAlone(c))) : commitMany(batch);
      void settled.then((results) => {
        flushing--;
        results.forEach((result, i) => {
          const c = batch[i];
          if (result.status === 'fulfilled') c?.resolve(result.value);
          else c?.reject(result.reason);
        });
        flushCommits();
      });
    }
  }

  /** A run read whole from its row; remembered as known. */
  const toRun = (row: RunRow): RunRecord => {
    const run = toRunRecord(row, decodeParsed, decodeDefinition);
    known.remember(run);
    return run;
  };
  /** A committed run, remembered unless it came back lean (its fixed columns `fixed`, as known). */
  const remembered = (run: RunRecord, fixed: FixedColumns | undefined): RunRecord => {
    if (fixed === undefined) known.remember(run);
    return run;
  };

  /** Why a guarded update matched no row: the run is missing, leased to another owner, or at another revision. */
  async function refusal(on: pg.Pool | pg.PoolClient, runId: string, expectRevision: number | undefined, owner: string | undefined): Promise<Error> {
    const current = await on.query<{ revision: number; lease_owner: string | null }>(`SELECT revision, lease_owner FROM ${q}.runs WHERE id = $1`, [runId]);
    const stored = current.rows[0];
    if (stored === undefined) return new RunNotFoundError(runId);
    if (owner !== undefined && stored.lease_owner !== owner) return new LeaseLostError(runId, owner, stored.lease_owner);
    return new ConflictError(runId, expectRevision ?? stored.revision, stored.revision);
  }
  let closing: Promise<void> | null = null;

  return {
    kind: 'postgres',
    claimReleases: true,
    migrate,

    async create(run, journal) {
      const inserted = await query<RunRow>(CREATE_ONE, [...runValues(run), ...journalArrays(journal), channel], 'stepwise_create');
      const row = inserted.rows[0];
      if (row) return { run: toRun(row), created: true };
      // A new statement: sees the run a concurrent create committed while this one waited on its id.
      const existing = await query<RunRow>(`SELECT ${runSelect()} FROM ${q}.runs WHERE id = $1`, [run.id], 'stepwise_get');
      return { run: toRun(existing.rows[0] as RunRow), created: false };
    },

    async get(runId) {
      const { rows } = await query<RunRow>(`SELECT ${runSelect()} FROM ${q}.runs WHERE id = $1`, [runId], 'stepwise_get');
      return rows[0] ? toRun(rows[0]) : null;
    },

    async runningLeases() {
      const { rows } = await query<{ id: string; lease_owner: string | null; lease_until: string | null }>(
        `SELECT id, lease_owner, lease_until FROM ${q}.runs WHERE status = 'running' AND (options->'parent') IS NULL`, [], 'stepwise_running_leases',
      );
      return rows.map((row) => ({ id: row.id, lease: row.lease_owner === null ? null : { owner: row.lease_owner, until: Number(row.lease_until) } }));
    },

    async list(filter = {}) {
      const { rows } = await query<RunRow>(
        `SELECT ${runSelect()} FROM ${q}.runs WHERE ($1::text[] IS NULL OR status = ANY($1)) AND ($2::text IS NULL OR workflow = $2)
           AND ($4::text IS NULL OR starts_with(id, $4))
           AND (NOT $5::boolean OR (options->'parent') IS NULL) AND ($6::text IS NULL OR options->'parent'->>'runId' = $6)
         ORDER BY created_at DESC, id LIMIT $3`,
        [filter.status ?? null, filter.workflow ?? null, filter.limit ?? null, filter.idPrefix ?? null, filter.parentId === null, filter.parentId ?? null],
      );
      // Not remembered (a long list would push out the runs this store drives), but a known run is refreshed: its
      // id may have been pruned and used again.
      return rows.map((row) => {
        const run = toRunRecord(row, decodeParsed, decodeDefinition);
        known.refresh(run);
        return run;
      });
    },

    commit(runId, patch, journal, expectRevision, owner) {
      if (options.hooks?.midCommit !== undefined) return commitLocked({ runId, patch, journal, expectRevision, owner });
      return new Promise<RunRecord>((resolve, reject) => {
        queued.push({ runId, patch, journal, expectRevision, owner, resolve, reject });
        flushCommits();
      });
    },

    async journal(runId) {
      const { rows } = await query<JournalRow>(`SELECT * FROM ${q}.journal WHERE run_id = $1 ORDER BY seq`, [runId]);
      return rows.map((row) => toJournalEntry(row, decodeParsed));
    },

    async claim({ owner, now, leaseMs, limit, exclude = [], release = [], prefetchShared }) {
      if (limit <= 0 && release.length === 0) return [];
      const { rows } = await query<RunRow & { prefetched: unknown }>(
        CLAIM,
        [now, owner, now + leaseMs, Math.max(0, limit), exclude, release, channel, prefetchShared?.prefix ?? null],
        'stepwise_claim',
      );
      prefetchShared?.fill(rows.map((row) => [row.id as string, row.prefetched]));
      return rows.map(toRun).sort(byUpdatedAt);
    },

    async renew(runId, owner, until) {
      const { rowCount } = await query(`UPDATE ${q}.runs SET lease_until = $3 WHERE id = $1 AND lease_owner = $2`, [runId, owner, until], 'stepwise_renew');
      return (rowCount ?? 0) > 0;
    },

    async release(runId, owner) {
      await query(
        `WITH released AS (UPDATE ${q}.runs SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2 RETURNING id, status, lease_owner)
         SELECT ${notifyWhenRunnable('released', '$3')} AS notified FROM released`,
        [runId, owner, channel],
        'stepwise_release',
      );
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
      const { rows } = await query<{ value: unknown }>(`SELECT value FROM ${q}.shared WHERE key = $1`, [key], 'stepwise_read_shared');
      return (rows[0]?.value ?? null) as T | null;
    },

    async readSharedPrefix<T>(prefix: string): Promise<Array<readonly [string, T]>> {
      const { rows } = await query<{ key: string; value: T }>(
        `SELECT key, value FROM ${q}.shared WHERE starts_with(key, $1) AND value IS NOT NULL AND value <> 'null'::jsonb`,
        [prefix],
        'stepwise_read_shared_prefix',
      );
      return rows.map((row) => [row.key, row.value] as const);
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

    onRunnable(listener) {
      return runnable.subscribe(listener);
    },

    close() {
      closing ??= runnable.close().then(() => pool.end());
      return closing;
    },
  };
}
