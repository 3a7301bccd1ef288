/**
 * `GET /api/runs`: the runs of the store, newest first (or sorted by another
 * column), filtered by status, workflow, creation time and cost, a page at a
 * time; child runs only with `children=true`. Rows are `list --json`'s (the query layer's) plus the run's cost in
 * dollars. The cursor is the last row's (sort value, runId), so a page never
 * repeats or skips a run as new ones arrive.
 */
import { checkStatuses, runSummaries, storeFilter } from '../query/list.js';
import type { RunReader } from '../query/reader.js';
import { iso } from '../query/run.js';
import type { RunStatus } from '../run/types.js';
import { ApiError } from './errors.js';

export interface ListParams {
  readonly status?: readonly string[] | undefined;
  readonly workflow?: string | undefined;
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  readonly minCost?: number | undefined;
  readonly maxCost?: number | undefined;
  readonly limit?: number | undefined;
  readonly cursor?: string | undefined;
  readonly sort?: SortKey | undefined;
  readonly order?: 'asc' | 'desc' | undefined;
  /** List child runs (a map's items, sub-workflows) too; default false, as `stepwise list` without `--children`. */
  readonly children?: boolean | undefined;
}

/** The columns a page can be sorted by. */
export const sortKeys = ['createdAt', 'updatedAt', 'usd', 'tokens', 'status', 'workflow'] as const;
export type SortKey = (typeof sortKeys)[number];

export interface RunRow {
  readonly runId: string;
  readonly workflow: string;
  readonly status: RunStatus;
  readonly version: string;
  readonly tokens: number;
  readonly usd: number;
  readonly failure: { kind: string; step: string | null; message: string } | null;
  readonly createdAt: number;
  readonly createdAtIso: string;
  readonly updatedAt: number;
  readonly updatedAtIso: string;
}

export const DEFAULT_PAGE = 50;

type Position = { sort: SortKey; value: string | number; runId: string };

const encodeCursor = (sort: SortKey, row: RunRow) => Buffer.from(JSON.stringify([sort, row[sort], row.runId])).toString('base64url');

function decodeCursor(cursor: string, sort: SortKey): Position {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value[0] === sort && (typeof value[1] === 'number' || typeof value[1] === 'string') && typeof value[2] === 'string') {
      return { sort, value: value[1], runId: value[2] };
    }
  } catch {
    // reported below
  }
  throw new ApiError(400, 'invalid_request', 'cursor: not a cursor this server gave for this sort (pass nextCursor as it came)', 'cursor');
}

const compare = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

/** Orders rows by `sort` (then by id, so the order is total), ascending or descending; the default is newest first. */
const ordering =
  (order: 'asc' | 'desc') =>
  (a: { value: string | number; runId: string }, b: { value: string | number; runId: string }) =>
    (order === 'asc' ? 1 : -1) * (compare(a.value, b.value) || compare(a.runId, b.runId));

export async function listPage(reader: RunReader, params: ListParams): Promise<{ runs: RunRow[]; nextCursor: string | null }> {
  const limit = params.limit ?? DEFAULT_PAGE;
  const sort = params.sort ?? 'createdAt';
  const by = ordering(params.order ?? 'desc');
  const at = (r: RunRow) => ({ value: r[sort], runId: r.runId });
  const after = params.cursor !== undefined ? decodeCursor(params.cursor, sort) : undefined;
  const filter = { ...(params.status ? { status: params.status as RunStatus[] } : {}), ...(params.workflow ? { workflow: params.workflow } : {}) };
  checkStatuses(filter.status);
  const rows = (await runSummaries(reader, storeFilter({ ...filter, children: params.children === true }))).map(
    // The row of `list --json` (listRuns), with the cost beside the tokens.
    (r): RunRow => ({ runId: r.runId, workflow: r.workflow, status: r.status, version: r.version, tokens: r.usage.totalTokens, usd: r.usage.usd, failure: r.failure, createdAt: r.createdAt, createdAtIso: iso(r.createdAt), updatedAt: r.updatedAt, updatedAtIso: iso(r.updatedAt) }),
  );
  const selected = rows
    .filter((r) => params.since === undefined || r.createdAt >= params.since)
    .filter((r) => params.until === undefined || r.createdAt < params.until)
    .filter((r) => params.minCost === undefined || r.usd >= params.minCost)
    .filter((r) => params.maxCost === undefined || r.usd <= params.maxCost)
    .sort((a, b) => by(at(a), at(b)))
    .filter((r) => after === undefined || by(after, at(r)) < 0);
  const runs = selected.slice(0, limit);
  const last = runs[runs.length - 1];
  return { runs, nextCursor: selected.length > limit && last ? encodeCursor(sort, last) : null };
}
