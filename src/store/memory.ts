/**
 * The in-memory store: the reference implementation of {@link Store}, for
 * tests and one-off runs. A run's small JSON parts (input, output, failure,
 * usage, options) are kept as JSON text, as the SQL stores keep them; its
 * snapshot and journal entries, which the engine never changes once made, are
 * kept as committed and written as JSON only when read (./kept-value.ts). Either
 * way a read parses text, so callers never share objects with stored state and
 * values follow JSON's rules.
 */
import { RunNotFoundError } from '../errors.js';
import type { JournalEntry, NewJournalEntry, RunRecord } from '../run/types.js';
import { byUpdatedAt, journalPayload } from './rows.js';
import { keep, keptText, verifyKeptValues, type Kept } from './kept-value.js';
import { isRunnable } from './runnable.js';
import { ConflictError, LeaseLostError, type ClaimOptions, type Store } from './types.js';

type JsonField = 'input' | 'output' | 'failure' | 'usage' | 'options';

/** A journal entry as committed, and its number. */
interface KeptEntry {
  readonly seq: number;
  readonly entry: NewJournalEntry;
}

interface Slot {
  /** The record's plain fields; its definition is shared (stored records never change their definition). */
  head: Omit<RunRecord, JsonField | 'snapshot'>;
  /** The record's small JSON fields as text. */
  json: Record<JsonField, string>;
  /** The snapshot as committed. */
  snapshot: Kept<unknown>;
  /** Journal entries as committed, in order. */
  journal: Array<Kept<KeptEntry>>;
  /** The run's parent (`options.parent.runId`), null for a top-level run: lists and claims filter on it. */
  parent: string | null;
}

const text = (value: unknown): string => JSON.stringify(value ?? null);

function jsonOf(run: Pick<RunRecord, JsonField>): Record<JsonField, string> {
  return { input: text(run.input), output: text(run.output), failure: text(run.failure), usage: text(run.usage), options: text(run.options) };
}

/** A snapshot's text: made at a read (and at its commit when verifying). */
function snapshotOf(slot: Slot): string {
  return keptText(slot.snapshot, text, () => `the snapshot of run "${slot.head.id}"`);
}

/** A record read out of its slot: fresh objects every time. */
function readRun(slot: Slot): RunRecord {
  const { json } = slot;
  return {
    ...slot.head,
    input: JSON.parse(json.input),
    output: JSON.parse(json.output),
    failure: JSON.parse(json.failure),
    usage: JSON.parse(json.usage),
    snapshot: JSON.parse(snapshotOf(slot)),
    options: JSON.parse(json.options) ?? {},
  };
}

/** An entry's text, made afresh (not from texts kept by identity: a verifying read must see an edit). */
function entryTextOf(runId: string, { seq, entry }: KeptEntry): string {
  const { step, visit, attempt, event, at } = entry;
  return JSON.stringify({ runId, seq, step: step ?? null, visit, attempt, event, at, ...journalPayload(entry) });
}

/** A run's journal entries as text (checked against their commits' when verifying). */
function journalTexts(runId: string, journal: ReadonlyArray<Kept<KeptEntry>>): string[] {
  return journal.map((kept) => keptText(kept, (e) => entryTextOf(runId, e), () => `journal entry ${kept.value.seq} of run "${runId}"`));
}

export function createMemoryStore(): Store {
  const verify = verifyKeptValues();
  const keepSnapshot = (snapshot: unknown): Kept<unknown> => keep(snapshot, text, verify);
  const keepEntry = (runId: string, seq: number, entry: NewJournalEntry): Kept<KeptEntry> => keep({ seq, entry }, (e) => entryTextOf(runId, e), verify);
  const runs = new Map<string, Slot>();
  const shared = new Map<string, unknown>();
  /** The ids of the child runs of each parent run: `list({ parentId })` (a map reading its items) looks at them only. */
  const byParent = new Map<string, Set<string>>();
  const childrenOf = (parent: string): Set<string> => {
    let ids = byParent.get(parent);
    if (!ids) byParent.set(parent, (ids = new Set()));
    return ids;
  };
  const unlink = (parent: string | null, id: string) => {
    const ids = parent === null ? undefined : byParent.get(parent);
    if (!ids) return;
    ids.delete(id);
    if (ids.size === 0) byParent.delete(parent!);
  };

  function slot(runId: string): Slot {
    const found = runs.get(runId);
    if (!found) throw new RunNotFoundError(runId);
    return found;
  }

  return {
    kind: 'memory',
    claimReleases: true,
    async migrate() {},

    async create(run, journal) {
      const existing = runs.get(run.id);
      if (existing) return { run: readRun(existing), created: false };
      // Head, texts and record built field by field, as `commit` does: rest and spread copy by a slower generic path.
      const head: Slot['head'] = {
        id: run.id,
        workflow: run.workflow,
        version: run.version,
        definition: run.definition,
        status: run.status,
        wakeAt: run.wakeAt,
        lease: run.lease,
        createdAt: run.createdAt,
        updatedAt: run.updatedAt,
        revision: run.revision,
      };
      const entries: Array<Kept<KeptEntry>> = [];
      for (let i = 0; i < journal.length; i++) entries.push(keepEntry(run.id, i + 1, journal[i] as NewJournalEntry));
      const json = jsonOf(run);
      const parent = parentOf(run.options);
      runs.set(run.id, { head, json, snapshot: keepSnapshot(run.snapshot ?? null), journal: entries, parent });
      if (parent !== null) childrenOf(parent).add(run.id);
      // As `commit` does, the record handed back holds the caller's own values (its usage copied): only the input
      // is parsed back from the text just written. A map item's run is created this way, once per item.
      return {
        run: {
          id: head.id,
          workflow: head.workflow,
          version: head.version,
          definition: head.definition,
          status: head.status,
          input: JSON.parse(json.input),
          output: run.output ?? null,
          failure: run.failure ?? null,
          usage: { ...run.usage },
          snapshot: run.snapshot ?? null,
          options: run.options ?? {},
          wakeAt: head.wakeAt,
          lease: head.lease,
          createdAt: head.createdAt,
          updatedAt: head.updatedAt,
          revision: head.revision,
        },
        created: true,
      };
    },

    async get(runId) {
      const found = runs.get(runId);
      return found ? readRun(found) : null;
    },

    async runningLeases() {
      return [...runs.values()].filter((s) => s.head.status === 'running' && s.parent === null).map((s) => ({ id: s.head.id, lease: s.head.lease && { ...s.head.lease } }));
    },

    async list(filter = {}) {
      const statuses = filter.status;
      const parentId = filter.parentId;
      const candidates = typeof parentId === 'string' ? [...(byParent.get(parentId) ?? [])].map((id) => runs.get(id)!) : [...runs.values()];
      const matching = candidates
        .filter((slot) => {
          const run = slot.head;
          return (!statuses || statuses.includes(run.status)) && (!filter.workflow || run.workflow === filter.workflow) && (filter.idPrefix === undefined || run.id.startsWith(filter.idPrefix)) && parentMatches(slot.parent, filter.parentId);
        })
        .sort(({ head: a }, { head: b }) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return (filter.limit === undefined ? matching : matching.slice(0, filter.limit)).map(readRun);
    },

    async commit(runId, patch, journal, expectRevision, owner) {
      const current = slot(runId);
      const head = current.head;
      if (owner !== undefined && head.lease?.owner !== owner) throw new LeaseLostError(runId, owner, head.lease?.owner ?? null);
      if (expectRevision !== undefined && head.revision !== expectRevision) {
        throw new ConflictError(runId, expectRevision, head.revision);
      }
      // Each small JSON part the patch brings is written once, as text, the snapshot and entries kept as they are; the
      // record handed back holds the caller's own values. Head and record are built field by field: object spread
      // copies by a generic path that is slower. When verifying, the snapshot replaced is checked unchanged first.
      if (verify) snapshotOf(current);
      const snapshot = patch.snapshot ?? null;
      const json: Record<JsonField, string> = {
        input: current.json.input,
        output: patch.output !== undefined ? text(patch.output) : current.json.output,
        failure: text(patch.failure),
        usage: text(patch.usage),
        options: patch.options ? text(patch.options) : current.json.options,
      };
      const revision = head.revision + 1;
      const updatedAt = Date.now();
      const next: Slot['head'] = {
        id: head.id,
        workflow: head.workflow,
        version: head.version,
        definition: head.definition,
        status: patch.status,
        wakeAt: patch.wakeAt,
        lease: head.lease,
        createdAt: head.createdAt,
        updatedAt,
        revision,
      };
      const base = current.journal.length;
      const entries: Array<Kept<KeptEntry>> = [];
      for (let i = 0; i < journal.length; i++) entries.push(keepEntry(runId, base + i + 1, journal[i] as NewJournalEntry));
      current.head = next;
      current.json = json;
      current.snapshot = keepSnapshot(snapshot);
      if (patch.options) {
        const parent = parentOf(patch.options);
        if (parent !== current.parent) {
          unlink(current.parent, runId);
          if (parent !== null) childrenOf(parent).add(runId);
          current.parent = parent;
        }
      }
      for (const entry of entries) current.journal.push(entry);
      // A run's entries are checked when it ends (and when read), not at each commit: that would be quadratic.
      if (verify && patch.status !== 'running') journalTexts(runId, current.journal);
      return {
        id: head.id,
        workflow: head.workflow,
        version: head.version,
        definition: head.definition,
        status: patch.status,
        input: JSON.parse(json.input),
        output: patch.output === undefined ? JSON.parse(json.output) : patch.output,
        failure: patch.failure,
        usage: { ...patch.usage },
        snapshot,
        options: patch.options ?? (JSON.parse(json.options) ?? {}),
        wakeAt: patch.wakeAt,
        lease: head.lease,
        createdAt: head.createdAt,
        updatedAt,
        revision,
      };
    },

    async journal(runId) {
      return journalTexts(runId, runs.get(runId)?.journal ?? []).map((entry) => JSON.parse(entry) as JournalEntry);
    },

    async claim({ owner, now, leaseMs, limit, exclude = [], release = [], prefetchShared }: ClaimOptions) {
      for (const runId of release) {
        const found = runs.get(runId);
        if (found && found.head.lease?.owner === owner) found.head = { ...found.head, lease: null };
      }
      const due = [...runs.values()]
        .filter((s) => isRunnable(s.head, now) && s.parent === null && !exclude.includes(s.head.id) && !release.includes(s.head.id))
        .sort((a, b) => byUpdatedAt(a.head, b.head));
      const claimed = due.slice(0, Math.max(0, limit)).map((s) => {
        s.head = { ...s.head, lease: { owner, until: now + leaseMs } };
        return readRun(s);
      });
      prefetchShared?.fill(claimed.map((run) => [run.id, structuredClone(shared.get(`${prefetchShared.prefix}${run.id}`))]));
      return claimed;
    },

    async renew(runId, owner, until) {
      const found = runs.get(runId);
      if (!found || found.head.lease?.owner !== owner) return false;
      found.head = { ...found.head, lease: { owner, until } };
      return true;
    },

    async acquire(runId, owner, now, leaseMs, replacing) {
      const found = runs.get(runId);
      const lease = found?.head.lease;
      if (!found || (lease && lease.until >= now && lease.owner !== owner && lease.owner !== replacing)) return false;
      found.head = { ...found.head, lease: { owner, until: now + leaseMs } };
      return true;
    },

    async release(runId, owner) {
      const found = runs.get(runId);
      if (found && found.head.lease?.owner === owner) found.head = { ...found.head, lease: null };
    },

    async prune({ olderThan, statuses }) {
      let count = 0;
      for (const [id, s] of runs) {
        if (s.head.updatedAt < olderThan && statuses.includes(s.head.status)) {
          runs.delete(id);
          unlink(s.parent, id);
          count++;
        }
      }
      return count;
    },

    async readShared<T>(key: string): Promise<T | null> {
      return shared.has(key) ? (structuredClone(shared.get(key)) as T) : null;
    },

    async readSharedPrefix<T>(prefix: string): Promise<Array<readonly [string, T]>> {
      return [...shared].flatMap(([key, value]) => (key.startsWith(prefix) && value !== null ? [[key, structuredClone(value) as T] as const] : []));
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
function parentMatches(parent: string | null, parentId: string | null | undefined): boolean {
  if (parentId === undefined) return true;
  return parentId === null ? parent === null : parent === parentId;
}

const parentOf = (options: RunRecord['options'] | undefined): string | null => options?.parent?.runId ?? null;
