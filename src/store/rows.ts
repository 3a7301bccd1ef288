/**
 * The mapping between run records / journal entries and the rows of the SQL
 * backends, shared by SQLite (JSON as TEXT) and PostgreSQL (JSON, BIGINT as
 * strings). JSON columns always hold a JSON value (`null` included), except
 * `failure` and `payload`, which may be SQL NULL.
 */
import { entryText } from './json-text.js';
import type { JournalEntry, NewJournalEntry, RunRecord, RunStatus, JournalEvent } from '../run/types.js';

/** Turns a JSON column as the driver returns it into a value. */
export type DecodeJson = (column: unknown) => unknown;

/** For drivers that return JSON columns as text (SQLite). */
export const decodeText: DecodeJson = (column) => (column == null ? null : JSON.parse(column as string));

/** For drivers that parse JSON columns themselves (pg). */
export const decodeParsed: DecodeJson = (column) => column ?? null;

/** JSON text of a value; `undefined` is stored as `null`. */
export function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export const RUN_COLUMNS = [
  'id', 'workflow', 'version', 'definition', 'status', 'input', 'output', 'failure', 'usage',
  'snapshot', 'options', 'wake_at', 'lease_owner', 'lease_until', 'created_at', 'updated_at', 'revision',
] as const;

export type RunRow = Record<(typeof RUN_COLUMNS)[number], unknown>;

/** Column values of a run, in {@link RUN_COLUMNS} order. */
export function runValues(run: RunRecord): unknown[] {
  return [
    run.id, run.workflow, run.version, json(run.definition), run.status, json(run.input), json(run.output),
    run.failure ? json(run.failure) : null, json(run.usage), json(run.snapshot), json(run.options),
    run.wakeAt, run.lease?.owner ?? null, run.lease?.until ?? null, run.createdAt, run.updatedAt, run.revision,
  ];
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

function numOrNull(value: unknown): number | null {
  return value == null ? null : num(value);
}

/** A run record from its row; `decodeDefinition` may share parsed definitions between records (they never change). */
export function toRunRecord(row: RunRow, decode: DecodeJson, decodeDefinition: DecodeJson = decode): RunRecord {
  const leaseOwner = row.lease_owner as string | null;
  return {
    id: row.id as string,
    workflow: row.workflow as string,
    version: row.version as string,
    definition: decodeDefinition(row.definition) as RunRecord['definition'],
    status: row.status as RunStatus,
    input: decode(row.input),
    output: decode(row.output),
    failure: decode(row.failure) as RunRecord['failure'],
    usage: decode(row.usage) as RunRecord['usage'],
    snapshot: decode(row.snapshot),
    options: (decode(row.options) ?? {}) as RunRecord['options'],
    wakeAt: numOrNull(row.wake_at),
    lease: leaseOwner === null ? null : { owner: leaseOwner, until: num(row.lease_until) },
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
    revision: num(row.revision),
  };
}

/** Claim results and lists come back oldest-updated first, ties by id. */
export function byUpdatedAt(a: Pick<RunRecord, 'updatedAt' | 'id'>, b: Pick<RunRecord, 'updatedAt' | 'id'>): number {
  return a.updatedAt - b.updatedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export const JOURNAL_COLUMNS = ['run_id', 'seq', 'step', 'visit', 'attempt', 'event', 'at', 'payload'] as const;

export type JournalRow = Record<(typeof JOURNAL_COLUMNS)[number], unknown>;

const PAYLOAD_KEYS = ['input', 'output', 'usage', 'latencyMs', 'error', 'data'] as const;

/** The optional fields of an entry that are set, or null when none is. */
export function journalPayload(entry: NewJournalEntry): Record<string, unknown> | null {
  let payload: Record<string, unknown> | null = null;
  for (const key of PAYLOAD_KEYS) {
    if (entry[key] !== undefined) (payload ??= {})[key] = entry[key];
  }
  return payload;
}

/** The text of a journal entry's payload column (null for an entry without one). */
export function payloadText(entry: NewJournalEntry): string | null {
  const payload = journalPayload(entry);
  return payload && entryText(payload);
}

/** Column values of a journal entry, in {@link JOURNAL_COLUMNS} order. */
export function journalValues(runId: string, seq: number, entry: NewJournalEntry): unknown[] {
  return [runId, seq, entry.step ?? null, entry.visit, entry.attempt, entry.event, entry.at, payloadText(entry)];
}

export function toJournalEntry(row: JournalRow, decode: DecodeJson): JournalEntry {
  const payload = decode(row.payload) as Record<string, unknown> | null;
  return {
    runId: row.run_id as string,
    seq: num(row.seq),
    step: row.step as string | null,
    visit: num(row.visit),
    attempt: num(row.attempt),
    event: row.event as JournalEvent,
    at: num(row.at),
    ...payload,
  };
}
