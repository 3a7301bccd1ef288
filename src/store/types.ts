/**
 * The storage contract every backend implements (memory, SQLite, PostgreSQL).
 * One conformance suite, `storeSpec` from `stepwise-engine/testing`
 * (src/testing/store-spec.ts), runs against each of them and against a
 * user's own store.
 */
import { StepwiseError } from '../errors.js';
import type { JournalEntry, NewJournalEntry, RunFilter, RunPatch, RunRecord } from '../run/types.js';
import type { PrefetchedShared } from './prefetched.js';

export interface ClaimOptions {
  readonly owner: string;
  readonly now: number;
  readonly leaseMs: number;
  readonly limit: number;
  /** Runs never to claim: those this owner already drives. */
  readonly exclude?: readonly string[];
  /**
   * With {@link Store.claimReleases}: runs this owner is done with, released (where still leased to `owner`) in the
   * same statement before the pick, and not picked by it. A store without the capability ignores it.
   */
  readonly release?: readonly string[];
  /**
   * With {@link Store.claimReleases}: filled in the same statement with the shared value at `prefix + runId` of
   * each run claimed (a worker reads its runs' cancel requests so). A store without the capability leaves it alone.
   */
  readonly prefetchShared?: PrefetchedShared;
}

/**
 * Hooks a store calls at moments tests need to reach, injected by whoever
 * opens the store (the CLI passes the crash points armed by
 * `STEPWISE_CRASH_AT`); a store never imports them.
 */
export interface StoreHooks {
  /**
   * Inside `commit`'s transaction, between its writes (the run row and the journal, in the order the store writes
   * them); on SQLite also inside `create`'s, which carries a started run's first commit. A throw rolls the write back.
   */
  readonly midCommit?: () => void;
}

export interface Store {
  readonly kind: 'memory' | 'sqlite' | 'postgres';
  /** Creates or upgrades the schema; safe to call again. Every backend calls it before first use. */
  migrate(): Promise<void>;
  /**
   * Inserts a run with its first journal entries. When a run with the same id
   * exists, returns it with `created: false` and changes nothing.
   */
  create(run: RunRecord, journal: readonly NewJournalEntry[]): Promise<{ run: RunRecord; created: boolean }>;
  get(runId: string): Promise<RunRecord | null>;
  /** Newest first. */
  list(filter?: RunFilter): Promise<RunRecord[]>;
  /**
   * Optional: the id and lease of every top-level `running` run, and nothing else of them: what a worker looks at
   * when it checks whether work is left and for runs of dead holders, without reading every snapshot.
   * The built-in stores have it.
   */
  runningLeases?(): Promise<Array<{ readonly id: string; readonly lease: RunRecord['lease'] }>>;
  /**
   * Applies a transition: the patch and the journal entries in one transaction.
   * With `expectRevision`, throws {@link ConflictError} when the stored revision differs.
   * With `owner`, throws {@link LeaseLostError} unless the run is leased to `owner`
   * (checked in the same transaction; a lease that expired but that nobody took over
   * still counts): a driver that lost its run mid-step never commits over the new holder.
   * The caller never edits a snapshot or journal entry after committing it, so a store may keep them as given
   * (the memory store does, writing their JSON when they are read); reads must still return fresh objects.
   */
  commit(runId: string, patch: RunPatch, journal: readonly NewJournalEntry[], expectRevision?: number, owner?: string): Promise<RunRecord>;
  /** The run's journal, in order. */
  journal(runId: string): Promise<JournalEntry[]>;
  /**
   * Leases up to `limit` runnable runs to `owner` (defined once in ./runnable.ts:
   * status `running` or a due timer, not leased or with an expired lease), none
   * of those in `exclude`.
   * Concurrent claimers never get the same run.
   */
  claim(options: ClaimOptions): Promise<RunRecord[]>;
  /**
   * Optional capability: `claim` honours {@link ClaimOptions.release} and {@link ClaimOptions.prefetchShared}, so a
   * worker's claim also lets go of the runs it finished and reads the new runs' cancel requests, in one round trip.
   * The built-in stores have it.
   */
  readonly claimReleases?: boolean;
  /** Extends a lease; false when the run is no longer leased to `owner`. */
  renew(runId: string, owner: string, until: number): Promise<boolean>;
  release(runId: string, owner: string): Promise<void>;
  /**
   * Takes the lease of one run for `owner` until `now + leaseMs`, atomically:
   * succeeds when the run is not leased, its lease expired (`until < now`), it is
   * already `owner`'s, or it is held by `replacing` (a holder known to be dead).
   * False when someone else holds it or the run does not exist. Engine commands
   * that drive a run (start, send, resume, step, cancel) hold it, so they never
   * race a worker.
   */
  acquire(runId: string, owner: string, now: number, leaseMs: number, replacing?: string): Promise<boolean>;
  /** Deletes runs (and their journals) last updated before `olderThan` whose status is in `statuses`. Returns how many. */
  prune(options: { olderThan: number; statuses: readonly string[] }): Promise<number>;
  /**
   * Atomically reads and replaces a shared JSON value (circuit breakers, rate
   * limits) visible to every engine on this store.
   */
  updateShared<T>(key: string, update: (current: T | null) => T): Promise<T>;
  /** Reads a shared value without locking it (null when missing): a fast path for readers that only write on change. */
  readShared<T>(key: string): Promise<T | null>;
  /**
   * Optional: every shared value whose key starts with `prefix` (plain text, not a pattern), null values left out,
   * in one read: the breakers of every tool at once. The built-in stores have it.
   */
  readSharedPrefix?<T>(prefix: string): Promise<Array<readonly [string, T]>>;
  /**
   * Optional: calls `listener` soon after a run may have become claimable (created
   * or released while `running`, on any process), so an idle worker claims at once
   * instead of at its next poll. Returns the unsubscribe. A hint only: workers still poll.
   */
  onRunnable?(listener: () => void): () => void;
  close(): Promise<void>;
}

export class ConflictError extends Error {
  override name = 'ConflictError';
  constructor(runId: string, expected: number, actual: number) {
    super(`Run "${runId}" changed underneath: expected revision ${expected}, found ${actual}.`);
  }
}

/**
 * A drive's first commit, which was to create its run, found the run made already (by another start of the same id):
 * nothing of the drive was written, and the run is whoever made it.
 */
export class RunExistsError extends ConflictError {
  override name = 'RunExistsError';
  constructor(readonly runId: string, actual: number) {
    super(runId, 0, actual);
  }
}

/** A commit (or a step) refused because the run is no longer leased to the one driving it. */
export class LeaseLostError extends StepwiseError {
  override name = 'LeaseLostError';
  constructor(runId: string, owner: string, holder: string | null) {
    super(
      'lease_lost',
      `Run "${runId}" is no longer leased to ${owner} (${holder ? `now held by ${holder}` : 'released'}); what this driver did since is not committed. ` +
        'A step that takes longer than the lease lets another worker take the run over: use a longer lease.',
    );
  }
}
