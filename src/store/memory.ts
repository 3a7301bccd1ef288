/**
 * The in-memory store: the reference implementation of {@link Store}, for
 * tests and one-off runs. Values are deep-copied in and out with
 * `structuredClone`, so callers never share objects with stored state.
 */
import { RunNotFoundError } from '../errors.js';
import type { JournalEntry, NewJournalEntry, RunRecord } from '../run/types.js';
import { byUpdatedAt, journalPayload } from './rows.js';
import { isRunnable } from './runnable.js';
import { ConflictError, LeaseLostError, type ClaimOptions, type Store } from './types.js';

interface Slot {
  run: RunRecord;
  journal: JournalEntry[];
}

/**
 * A record handed out: its mutable parts copied, its definition shared (stored
 * records never change their definition, and records are read-only to callers).
 */
function copyOut(run: RunRecord): RunRecord {
  const { definition, ...rest } = run;
  return { ...structuredClone(rest), definition };
}

function toEntry(runId: string, seq: number, entry: NewJournalEntry): JournalEntry {
  const { step, visit, attempt, event, at } = entry;
  return structuredClone({ runId, seq, step: step ?? null, visit, attempt, event, at, ...journalPayload(entry) });
}

/**
 * Creates an empty in-memory store. Nothing survives the process; `migrate()`
 * has nothing to do.
 *
 * @example
 * const store = createMemoryStore();
 * const engine = createEngine({ store, tools, model });
 */
export function createMemoryStore(): Store {
  const runs = new Map<string, Slot>();
  const shared = new Map<string, unknown>();

  function slot(runId: string): Slot {
    const found = runs.get(runId);
    if (!found) throw new RunNotFoundError(runId);
    return found;
  }

  return {
    kind: 'memory',
    async migrate() {},

    async create(run, journal) {
      const existing = runs.get(run.id);
      if (existing) return { run: structuredClone(existing.run), created: false };
      const stored: RunRecord = structuredClone({ ...run, output: run.output ?? null });
      runs.set(run.id, { run: stored, journal: journal.map((entry, i) => toEntry(run.id, i + 1, entry)) });
      return { run: structuredClone(stored), created: true };
    },

    async get(runId) {
      const found = runs.get(runId);
      return found ? copyOut(found.run) : null;
    },

    async list(filter = {}) {
      const statuses = filter.status;
      const matching = [...runs.values()]
        .map((s) => s.run)
        .filter((run) => (!statuses || statuses.includes(run.status)) && (!filter.workflow || run.workflow === filter.workflow) && (filter.idPrefix === undefined || run.id.startsWith(filter.idPrefix)) && parentMatches(run, filter.parentId))
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return structuredClone(filter.limit === undefined ? matching : matching.slice(0, filter.limit));
    },

    async commit(runId, patch, journal, expectRevision, owner) {
      const current = slot(runId);
      if (owner !== undefined && current.run.lease?.owner !== owner) throw new LeaseLostError(runId, owner, current.run.lease?.owner ?? null);
      if (expectRevision !== undefined && current.run.revision !== expectRevision) {
        throw new ConflictError(runId, expectRevision, current.run.revision);
      }
      // Only what the patch brings is copied; the rest of the stored record (its definition above all) never changes.
      const next: RunRecord = {
        ...current.run,
        status: patch.status,
        snapshot: structuredClone(patch.snapshot ?? null),
        output: patch.output === undefined ? current.run.output : structuredClone(patch.output),
        failure: structuredClone(patch.failure),
        usage: { ...patch.usage },
        wakeAt: patch.wakeAt,
        options: patch.options ? structuredClone(patch.options) : current.run.options,
        updatedAt: Date.now(),
        revision: current.run.revision + 1,
      };
      const base = current.journal.length;
      const entries = journal.map((entry, i) => toEntry(runId, base + i + 1, entry));
      current.run = next;
      current.journal.push(...entries);
      return copyOut(next);
    },

    async journal(runId) {
      return structuredClone(runs.get(runId)?.journal ?? []);
    },

    async claim({ owner, now, leaseMs, limit, exclude = [] }: ClaimOptions) {
      const due = [...runs.values()].filter((s) => isRunnable(s.run, now) && !s.run.options.parent && !exclude.includes(s.run.id)).sort((a, b) => byUpdatedAt(a.run, b.run));
      return due.slice(0, Math.max(0, limit)).map((s) => {
        s.run = { ...s.run, lease: { owner, until: now + leaseMs } };
        return structuredClone(s.run);
      });
    },

    async renew(runId, owner, until) {
      const found = runs.get(runId);
      if (!found || found.run.lease?.owner !== owner) return false;
      found.run = { ...found.run, lease: { owner, until } };
      return true;
    },

    async acquire(runId, owner, now, leaseMs, replacing) {
      const found = runs.get(runId);
      const lease = found?.run.lease;
      if (!found || (lease && lease.until >= now && lease.owner !== owner && lease.owner !== replacing)) return false;
      found.run = { ...found.run, lease: { owner, until: now + leaseMs } };
      return true;
    },

    async release(runId, owner) {
      const found = runs.get(runId);
      if (found && found.run.lease?.owner === owner) found.run = { ...found.run, lease: null };
    },

    async prune({ olderThan, statuses }) {
      let count = 0;
      for (const [id, s] of runs) {
        if (s.run.updatedAt < olderThan && statuses.includes(s.run.status)) {
          runs.delete(id);
          count++;
        }
      }
      return count;
    },

    async readShared<T>(key: string): Promise<T | null> {
      return shared.has(key) ? (structuredClone(shared.get(key)) as T) : null;
    },

    async updateShared<T>(key: string, update: (current: T | null) => T): Promise<T> {
      const current = shared.has(key) ? (structuredClone(shared.get(key)) as T) : null;
      const next = update(current);
      shared.set(key, structuredClone(next ?? null));
      return next;
    },

    async close() {},
  };
}

/** Whether `run` passes the parent filter (`null`: top-level only; an id: that run's children). */
function parentMatches(run: RunRecord, parentId: string | null | undefined): boolean {
  if (parentId === undefined) return true;
  return parentId === null ? !run.options.parent : run.options.parent?.runId === parentId;
}
