/**
 * The SQLite store (better-sqlite3): the embedded default, a single file that
 * several processes may share. WAL mode, `busy_timeout`, foreign keys; every
 * write runs in a `BEGIN IMMEDIATE` transaction so writers queue on the lock
 * instead of failing on a stale snapshot. Statements are prepared once.
 *
 * What waits for the disk (with `synchronous = FULL`, an fsync of the WAL): every
 * write a caller may be told happened (a completed step, an event, a failure, a
 * run created for someone else). Three writes do not, and commit at
 * `synchronous = NORMAL`: the start of an attempt alone (a commit whose journal
 * entries are all `started`), a run created under its creator's lease with
 * nothing more than its first step's start, and a lease taken or let go. A process crash (kill -9) loses none of them: in WAL
 * mode a commit is written to the file before it returns, only the fsync is
 * left out. A power loss may lose them, and then only what is redone the same
 * way: the attempt runs again with the same idempotency key, as after a crash
 * between its start and that commit; the lease's holder is gone too. Each is
 * made durable by the next durable commit (one fsync of the WAL covers every
 * frame before it), and a lease release (the end of an engine command) waits
 * for the disk while a deferred write of its run is not durable yet, so nothing
 * is acknowledged before it is durable. A tool step so costs one fsync: its
 * completion, which carries the next step's start.
 *
 * A commit by a lease's owner that ends the run (`done`, `cancelled`) lets go
 * of the lease in the same write, so the release that ends the command writes
 * nothing.
 *
 * What a commit writes: the journal rows, then the runs row (small columns
 * first, the snapshot last), whose snapshot names the outputs the journal
 * holds instead of holding them again (./sqlite-outputs.ts). A run's
 * definition, which never changes, is stored once per distinct text in
 * `definitions` (./sqlite-definitions.ts) and the row holds its key, so a
 * commit does not rewrite it (schema version 2, ./migrations.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { RunNotFoundError } from '../errors.js';
import type { NewJournalEntry, RunFilter, RunPatch, RunRecord } from '../run/types.js';
import { MIGRATIONS_TABLE, sqliteMigrations } from './migrations.js';
import {
  RUN_COLUMNS, byUpdatedAt, decodeText, json, runValues, toJournalEntry, toRunRecord, type JournalRow, type RunRow,
} from './rows.js';
import { snapshotText } from './json-text.js';
import { registerDefinitionHash, sqliteDefinitions, type Definitions } from './sqlite-definitions.js';
import type { PrefetchedShared } from './prefetched.js';
import { runnableSql } from './runnable.js';
import { journalAppender } from './sqlite-journal.js';
import { sqliteOutputs, type SqliteOutputs } from './sqlite-outputs.js';
import { BoundedMap } from '../util/bounded-map.js';
import { ConflictError, LeaseLostError, type Store, type StoreHooks } from './types.js';

export interface SqliteStoreOptions {
  /** Database file; its directory is created when missing (`openStore` creates only the default `.stepwise/`). `:memory:` works for tests. */
  readonly path: string;
  /** `FULL` (default) survives power loss; `NORMAL` is faster and survives process crashes. */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** How long a writer waits for another process's lock. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** Test hooks; see {@link SqliteStoreHooks}. */
  readonly hooks?: SqliteStoreHooks;
}

/** The `synchronous` level a write transaction committed at. */
export type SqliteSynchronous = 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';

export interface SqliteStoreHooks extends StoreHooks {
  /**
   * After each write transaction of the group commit (create, commit, acquire,
   * release), with how many writes it held and the `synchronous` level it
   * committed at, as SQLite reports it.
   */
  readonly committed?: (transaction: { readonly writes: number; readonly synchronous: SqliteSynchronous }) => void;
}

/**
 * How a write needs the disk: `durable` waits for it; `deferred` may commit
 * without (its caller writes durably before it acknowledges anything);
 * `lease` may too, unless a deferred write of the same run is not durable yet.
 */
type DiskWait = 'durable' | 'deferred' | 'lease';

/**
 * A commit by the lease's owner that ends the run (`done`, `cancelled`) also lets go of the lease: nothing drives
 * an ended run again, and the release that ends the owner's command is then no write at all. A run that fails
 * keeps it (a worker leaves a failed run's lease to expire).
 */
function releases(patch: RunPatch, owner: string | null): boolean {
  return owner !== null && (patch.status === 'done' || patch.status === 'cancelled');
}

/** A commit that only records attempts starting: redone the same way if lost, so it need not wait for the disk. */
function startsOnly(journal: readonly NewJournalEntry[]): boolean {
  return journal.length > 0 && journal.every((e) => e.event === 'started');
}

/**
 * A create under its creator's lease that records no more than the run's making and attempts starting (a started
 * run's first commit): redone the same way if lost. One that already carries more (the run waits, or ended) is
 * acknowledged as such to whoever watches the run's commits, so it waits for the disk.
 */
function createdOnly(run: RunRecord, journal: readonly NewJournalEntry[]): boolean {
  return run.lease !== null && journal.every((e) => e.event === 'created' || e.event === 'started');
}

const RUNNABLE = runnableSql('@now');
/**
 * A run's columns as rows.ts names them ({@link RUN_COLUMNS}), read in their stored order: `definition` holds the
 * key of the definition's text in the `definitions` table.
 */
const COLUMNS = 'id, workflow, version, definition_hash AS definition, status, wake_at, lease_owner, lease_until, created_at, updated_at, revision, options, usage, failure, input, output, snapshot';
/** The stored names of {@link RUN_COLUMNS}, in its order (for inserts with `runValues`). */
const STORED_COLUMNS = RUN_COLUMNS.map((c) => (c === 'definition' ? 'definition_hash' : c));
const DEFINITION_AT = RUN_COLUMNS.indexOf('definition');
/** What a commit reads back: the columns it did not write, and the ones the database sets. */
const UPDATED = 'id, workflow, version, definition_hash AS definition, lease_owner, lease_until, created_at, updated_at, revision, options, input, output';
/** A child run is driven by its parent's driver under the parent's lease, never claimed on its own. */
const NOT_CHILD = "json_extract(options, '$.parent') IS NULL";

/** Thrown inside a read when the run's definition is gone: the run was pruned between the two reads. */
class Pruned extends Error {}

/**
 * The record of a row, its definition looked up by key (see ./sqlite-definitions.ts) and the outputs its
 * snapshot refers to read from the journal (./sqlite-outputs.ts).
 */
function toRecord(row: RunRow, definitions: Definitions, outputs: SqliteOutputs): RunRecord {
  const record = toRunRecord(row, decodeText, (hash) => {
    const definition = definitions.get(hash as string);
    if (definition === undefined) throw new Pruned();
    return definition;
  });
  return typeof row.snapshot === 'string' ? { ...record, snapshot: outputs.resolve(record.id, record.snapshot, row.snapshot) } : record;
}

/** The record, or null when the run was pruned meanwhile. */
function recordOrNull(row: RunRow | undefined, definitions: Definitions, outputs: SqliteOutputs): RunRecord | null {
  if (row === undefined) return null;
  try {
    return toRecord(row, definitions, outputs);
  } catch (error) {
    if (error instanceof Pruned) return null;
    throw error;
  }
}

/**
 * The parsed input of the runs committed lately, with its text: a run's input never changes, so a commit reads
 * it back as text and parses it only when the text differs from the one kept (a run pruned and made again).
 */
class KeptInputs {
  private readonly kept: BoundedMap<string, { readonly text: string; readonly value: unknown }>;
  constructor(limit: number) {
    this.kept = new BoundedMap(limit);
  }

  value(runId: string, text: string): unknown {
    const kept = this.kept.get(runId);
    if (kept?.text === text) return kept.value;
    const value = decodeText(text);
    this.kept.set(runId, { text, value });
    return value;
  }
}

/**
 * The record after a commit: what the patch set comes from the patch itself, so
 * the hot path parses back only the columns it did not write (the input, kept
 * parsed between commits).
 */
function committed(row: RunRow, patch: RunPatch, definitions: Definitions, outputs: SqliteOutputs, inputs: KeptInputs): RunRecord {
  const stored = toRecord({
    ...row, status: patch.status, failure: null, usage: null, snapshot: null, wake_at: null, input: null,
    output: patch.output === undefined ? row.output : null, options: patch.options === undefined ? row.options : null,
  }, definitions, outputs);
  return {
    ...stored,
    input: inputs.value(stored.id, row.input as string),
    failure: patch.failure,
    usage: patch.usage,
    snapshot: patch.snapshot ?? null,
    wakeAt: patch.wakeAt,
    output: patch.output === undefined ? stored.output : (patch.output ?? null),
    options: patch.options ?? stored.options,
  };
}

function applyMigrations(db: Database.Database): void {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`);
    const current = db.prepare(`SELECT COALESCE(MAX(version), 0) FROM ${MIGRATIONS_TABLE}`).pluck().get() as number;
    const record = db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (version, applied_at) VALUES (?, ?)`);
    sqliteMigrations.slice(current).forEach((sql, i) => {
      db.exec(sql);
      record.run(current + i + 1, Date.now());
    });
  }).immediate();
}

/**
 * Opens (and migrates) a SQLite store.
 *
 * @example
 * const store = createSqliteStore({ path: '.stepwise/stepwise.db', synchronous: 'NORMAL' });
 * const run = await store.get('run-1');
 * await store.close();
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  if (options.path !== ':memory:' && options.path !== '') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
  db.pragma('journal_mode = WAL');
  const full = options.synchronous !== 'NORMAL';
  db.pragma(`synchronous = ${full ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  registerDefinitionHash(db);
  applyMigrations(db);
  const definitions = sqliteDefinitions(db);
  const outputs = sqliteOutputs(db);
  const inputs = new KeptInputs(1024);
  /** Leases a commit that ended the run let go of, by run: the owner's release has nothing left to write. */
  const letGo = new Map<string, string>();

  const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
  const s = {
    insertRun: db.prepare(`INSERT INTO runs (${STORED_COLUMNS.join(', ')}) VALUES (${placeholders(RUN_COLUMNS.length)}) ON CONFLICT (id) DO NOTHING`),
    getRun: db.prepare<[string], RunRow>(`SELECT ${COLUMNS} FROM runs WHERE id = ?`),
    revision: db.prepare<[string], { revision: number; lease_owner: string | null }>('SELECT revision, lease_owner FROM runs WHERE id = ?'),
    // A commit by the lease's owner that ends the run lets go of the lease in the same write (see `ends`).
    update: db.prepare<Record<string, unknown>, RunRow>(`UPDATE runs SET status = @status, snapshot = @snapshot,
      output = COALESCE(@output, output), failure = @failure, usage = @usage, wake_at = @wakeAt,
      options = COALESCE(@options, options), updated_at = @now, revision = revision + 1,
      lease_owner = CASE WHEN @release THEN NULL ELSE lease_owner END, lease_until = CASE WHEN @release THEN NULL ELSE lease_until END
      WHERE id = @id AND (@expect IS NULL OR revision = @expect) AND (@owner IS NULL OR lease_owner = @owner)
      RETURNING ${UPDATED}`),
    // The same update for a commit that keeps the run's status and wake time (most of them): a column named in SET
    // rewrites every index on it, even to the same value, so leaving them out writes two pages fewer to the WAL.
    updateSame: db.prepare<Record<string, unknown>, RunRow>(`UPDATE runs SET snapshot = @snapshot,
      output = COALESCE(@output, output), failure = @failure, usage = @usage,
      options = COALESCE(@options, options), updated_at = @now, revision = revision + 1
      WHERE id = @id AND status = @status AND wake_at IS @wakeAt
        AND (@expect IS NULL OR revision = @expect) AND (@owner IS NULL OR lease_owner = @owner)
      RETURNING ${UPDATED}`),
    journal: db.prepare<[string], JournalRow>('SELECT * FROM journal WHERE run_id = ? ORDER BY seq'),
    claim: db.prepare<Record<string, unknown>, RunRow>(`UPDATE runs SET lease_owner = @owner, lease_until = @until
      WHERE id IN (SELECT id FROM runs WHERE ${RUNNABLE} AND ${NOT_CHILD} AND id NOT IN (SELECT value FROM json_each(@exclude))
        ORDER BY updated_at, id LIMIT @limit) RETURNING ${COLUMNS}`),
    renew: db.prepare('UPDATE runs SET lease_until = ? WHERE id = ? AND lease_owner = ?'),
    release: db.prepare('UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?'),
    acquire: db.prepare(`UPDATE runs SET lease_owner = @owner, lease_until = @until WHERE id = @id
      AND (lease_owner IS NULL OR lease_until < @now OR lease_owner = @owner OR lease_owner = @replacing)`),
    prune: db.prepare('DELETE FROM runs WHERE updated_at < ? AND status IN (SELECT value FROM json_each(?))'),
    pruneDefinitions: db.prepare('DELETE FROM definitions WHERE hash NOT IN (SELECT definition_hash FROM runs)'),
    getShared: db.prepare<[string], string | null>('SELECT value FROM shared WHERE key = ?').pluck(),
    runningLeases: db.prepare<[], { id: string; lease_owner: string | null; lease_until: number | null }>(
      `SELECT id, lease_owner, lease_until FROM runs WHERE status = 'running' AND ${NOT_CHILD}`,
    ),
    getSharedPrefix: db.prepare<[string, string], { key: string; value: string }>(
      "SELECT key, value FROM shared WHERE substr(key, 1, length(?)) = ? AND value IS NOT NULL AND value <> 'null'",
    ),
    putShared: db.prepare(`INSERT INTO shared (key, value, updated_at) VALUES (?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
  };
  // Not prepared statements: SQLite applies (and reads) `synchronous` when it compiles the PRAGMA, not when it runs it.
  const setSynchronous = (level: 'NORMAL' | 'FULL') => db.exec(`PRAGMA synchronous = ${level}`);
  const LEVELS: readonly SqliteSynchronous[] = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];
  const listStatements = new Map<string, Database.Statement<unknown[], RunRow>>();

  // A commit's journal entries in one statement, numbered in it from the run's last seq.
  const appendJournal = journalAppender(db);

  // `create` and `commit` run only inside the group commit's transaction (each in its own savepoint when it
  // shares the transaction), so they open no transaction of their own: a savepoint each costs two statements.
  const create = (run: RunRecord, journal: readonly NewJournalEntry[]) => {
    const values = runValues(run);
    values[DEFINITION_AT] = definitions.put(values[DEFINITION_AT] as string);
    const created = s.insertRun.run(values).changes === 1;
    if (created) {
      // A run is created by its first commit (a started run's first step's start): a crash inside it is one inside a commit.
      options.hooks?.midCommit?.();
      appendJournal(run.id, journal);
    }
    return { run: toRecord(s.getRun.get(run.id) as RunRow, definitions, outputs), created };
  };

  /** The entries of a run that must exist: a missing run is told as such, not as the journal's foreign key. */
  const appendRunJournal = (runId: string, journal: readonly NewJournalEntry[]) => {
    try {
      return appendJournal(runId, journal);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY' && s.revision.get(runId) === undefined) throw new RunNotFoundError(runId);
      throw error;
    }
  };

  /**
   * A commit: the journal entries first, numbered by their insert, then the run's row, whose snapshot refers to
   * the outputs the journal holds (./sqlite-outputs.ts). A refused update throws and so takes the entries back.
   * Gives the record and the outputs this commit journaled, which later commits may refer to once it is durable.
   */
  const commit = (runId: string, patch: RunPatch, journal: readonly NewJournalEntry[], expect: number | null, owner: string | null) => {
    const fresh = journal.length === 0 ? null : outputs.journaled(journal, appendRunJournal(runId, journal));
    options.hooks?.midCommit?.();
    const params = {
      id: runId, expect, owner, now: Date.now(), status: patch.status, release: releases(patch, owner) ? 1 : 0, snapshot: snapshotText(patch.snapshot, outputs.refFor(runId, fresh)),
      output: patch.output === undefined ? null : json(patch.output), failure: patch.failure ? json(patch.failure) : null,
      usage: json(patch.usage), wakeAt: patch.wakeAt, options: patch.options === undefined ? null : json(patch.options),
    };
    // No row when the status or wake time changes (or the commit is refused): then the full update, which also tells why.
    const row = s.updateSame.get(params) ?? s.update.get(params);
    if (!row) {
      const stored = s.revision.get(runId);
      if (stored === undefined) throw new RunNotFoundError(runId);
      if (owner !== null && stored.lease_owner !== owner) throw new LeaseLostError(runId, owner, stored.lease_owner);
      throw new ConflictError(runId, expect ?? stored.revision, stored.revision);
    }
    return { record: committed(row, patch, definitions, outputs, inputs), fresh };
  };

  /**
   * Group commit: the per-run writes (create, commit, lease acquire and release)
   * that arrive in the same turn of the event loop, from runs driven
   * concurrently, share one transaction and so one fsync. Each runs in its own
   * savepoint, so a conflict fails that write alone, and none is acknowledged
   * before the transaction holding it is durable.
   */
  interface PendingWrite {
    readonly runId: string;
    readonly wait: DiskWait;
    readonly write: () => unknown;
    readonly resolve: (value: unknown) => void;
    readonly reject: (error: unknown) => void;
  }
  let pending: PendingWrite[] = [];
  const inSavepoint = db.transaction((write: () => unknown) => write());
  const writeBatch = db.transaction((batch: readonly PendingWrite[]): Array<{ value: unknown } | { error: unknown }> =>
    // A write alone needs no savepoint: when it fails, the whole transaction rolls back and it is refused.
    batch.length === 1 ? [{ value: batch[0]!.write() }] : batch.map((w) => {
      try {
        return { value: inSavepoint(w.write) };
      } catch (error) {
        return { error };
      }
    }),
  );
  /** Runs with a deferred write that no durable commit has covered yet; emptied by every durable commit. */
  const notDurable = new Set<string>();
  /** A batch may skip the fsync when none of its writes needs it (see the module comment). */
  function deferrable(batch: readonly PendingWrite[]): boolean {
    if (!full) return false;
    const deferred = new Set<string>();
    for (const w of batch) {
      if (w.wait === 'durable') return false;
      if (w.wait === 'deferred') deferred.add(w.runId);
    }
    return batch.every((w) => w.wait !== 'lease' || !(notDurable.has(w.runId) || deferred.has(w.runId)));
  }
  function flushWrites(): void {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    const lazy = deferrable(batch);
    let results: Array<{ value: unknown } | { error: unknown }>;
    try {
      if (lazy) setSynchronous('NORMAL');
      try {
        results = writeBatch.immediate(batch);
      } finally {
        if (options.hooks?.committed) options.hooks.committed({ writes: batch.length, synchronous: LEVELS[db.pragma('synchronous', { simple: true }) as number] ?? 'OFF' });
        if (lazy) setSynchronous('FULL');
      }
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    if (!lazy) notDurable.clear();
    else for (const w of batch) if (w.wait === 'deferred') notDurable.add(w.runId);
    results.forEach((result, i) => {
      const w = batch[i]!;
      if ('error' in result) w.reject(result.error);
      else w.resolve(result.value);
    });
  }
  function grouped<T>(runId: string, wait: DiskWait, write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      pending.push({ runId, wait, write, resolve: resolve as (value: unknown) => void, reject });
      if (pending.length === 1) setImmediate(flushWrites);
    });
  }

  /** Releases (ClaimOptions.release), then claims, then reads the claimed runs' prefetched shared values: one transaction. */
  const claim = db.transaction((params: Record<string, unknown>, release: readonly string[], prefetch: PrefetchedShared | undefined) => {
    // A run whose last commit let go of the lease already (see `letGo`) has nothing left to release.
    for (const runId of release) {
      if (letGo.get(runId) === params['owner']) letGo.delete(runId);
      else s.release.run(runId, params['owner']);
    }
    const claimed = s.claim.all(params).map((row) => toRecord(row, definitions, outputs));
    // A run leased anew (made again under its id after a prune) has a lease its owner's release must write.
    for (const run of claimed) letGo.delete(run.id);
    prefetch?.fill(claimed.map((run) => [run.id, decodeText(s.getShared.get(`${prefetch.prefix}${run.id}`) ?? null)]));
    return claimed;
  });
  const prune = db.transaction((olderThan: number, statuses: string) => {
    const pruned = s.prune.run(olderThan, statuses).changes;
    if (pruned > 0) s.pruneDefinitions.run();
    return pruned;
  });

  const updateShared = db.transaction((key: string, update: (current: unknown) => unknown) => {
    const stored = s.getShared.get(key);
    const next = update(stored == null ? null : JSON.parse(stored));
    const text = json(next);
    // An unchanged value is not written: a transaction that writes nothing costs no fsync (breaker checks on every tool call).
    if (text !== stored) s.putShared.run(key, text, Date.now());
    return next;
  });

  function listStatement(filter: RunFilter): Database.Statement<unknown[], RunRow> {
    const where = [filter.status ? 'status IN (SELECT value FROM json_each(?))' : '', filter.workflow !== undefined ? 'workflow = ?' : '',
      filter.idPrefix !== undefined ? 'substr(id, 1, length(?)) = ?' : '',
      filter.parentId === null ? NOT_CHILD : filter.parentId !== undefined ? "json_extract(options, '$.parent.runId') = ?" : '']
      .filter(Boolean);
    const sql = `SELECT ${COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT ?`;
    let statement = listStatements.get(sql);
    if (!statement) listStatements.set(sql, (statement = db.prepare<unknown[], RunRow>(sql)));
    return statement;
  }

  let closed = false;
  return {
    kind: 'sqlite',
    claimReleases: true,
    async migrate() {
      applyMigrations(db);
    },
    async create(run, journal) {
      // Created under its creator's lease: the creator drives it and writes durably (or releases) before it returns.
      return grouped(run.id, createdOnly(run, journal) ? 'deferred' : 'durable', () => create(run, journal));
    },
    async get(runId) {
      return recordOrNull(s.getRun.get(runId), definitions, outputs);
    },
    async runningLeases() {
      return s.runningLeases.all().map((row) => ({ id: row.id, lease: row.lease_owner === null ? null : { owner: row.lease_owner, until: Number(row.lease_until) } }));
    },
    async list(filter = {}) {
      const params: unknown[] = [];
      if (filter.status) params.push(JSON.stringify(filter.status));
      if (filter.workflow !== undefined) params.push(filter.workflow);
      if (filter.idPrefix !== undefined) params.push(filter.idPrefix, filter.idPrefix);
      if (typeof filter.parentId === 'string') params.push(filter.parentId);
      params.push(filter.limit ?? -1);
      const records: RunRecord[] = [];
      for (const row of listStatement(filter).all(params)) {
        const record = recordOrNull(row, definitions, outputs);
        if (record) records.push(record);
      }
      return records;
    },
    async commit(runId, patch, journal, expectRevision, owner) {
      const wait = startsOnly(journal) ? 'deferred' : 'durable';
      const { record, fresh } = await grouped(runId, wait, () => commit(runId, patch, journal, expectRevision ?? null, owner ?? null));
      outputs.keep(runId, fresh);
      if (owner !== undefined && record.lease === null && releases(patch, owner)) letGo.set(runId, owner);
      return record;
    },
    async journal(runId) {
      return s.journal.all(runId).map((row) => toJournalEntry(row, decodeText));
    },
    async claim({ owner, now, leaseMs, limit, exclude = [], release = [], prefetchShared }) {
      if (limit <= 0 && release.length === 0) return [];
      const params = { owner, now, until: now + leaseMs, limit: Math.max(0, limit), exclude: JSON.stringify([...exclude, ...release]) };
      return claim.immediate(params, release, prefetchShared).sort(byUpdatedAt);
    },
    async renew(runId, owner, until) {
      return s.renew.run(until, runId, owner).changes > 0;
    },
    async release(runId, owner) {
      if (letGo.get(runId) === owner) {
        letGo.delete(runId);
        return;
      }
      await grouped(runId, 'lease', () => s.release.run(runId, owner));
    },
    async acquire(runId, owner, now, leaseMs, replacing) {
      letGo.delete(runId);
      return grouped(runId, 'lease', () => s.acquire.run({ id: runId, owner, now, until: now + leaseMs, replacing: replacing ?? null }).changes > 0);
    },
    async prune({ olderThan, statuses }) {
      if (statuses.length === 0) return 0;
      return prune.immediate(olderThan, JSON.stringify(statuses));
    },
    async readShared<T>(key: string): Promise<T | null> {
      const stored = s.getShared.get(key);
      return stored == null ? null : (JSON.parse(stored) as T);
    },
    async readSharedPrefix<T>(prefix: string): Promise<Array<readonly [string, T]>> {
      return s.getSharedPrefix.all(prefix, prefix).map((row) => [row.key, JSON.parse(row.value) as T] as const);
    },
    async updateShared<T>(key: string, update: (current: T | null) => T): Promise<T> {
      return updateShared.immediate(key, update as (current: unknown) => unknown) as T;
    },
    async close() {
      if (closed) return;
      closed = true;
      flushWrites();
      // Deferred writes whose durable follow-up never came (a drive cut short): a checkpoint syncs the WAL first.
      if (notDurable.size > 0) db.pragma('wal_checkpoint(PASSIVE)');
      db.close();
    },
  };
}
