/**
 * `GET /api/runs`: the runs of the store, newest first, filtered by status,
 * workflow, creation time and cost, a page at a time. Rows are `list --json`'s
 * (the query layer's) plus the run's cost in dollars. The cursor is the last
 * row's (createdAt, runId), so a page never repeats or skips a run as new ones
 * arrive.
 */
import { checkStatuses, runSummaries } from '../query/list.js';
import type { RunReader } from '../query/reader.js';
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
}

export interface RunRow {
  readonly runId: string;
  readonly workflow: string;
  readonly status: RunStatus;
  readonly version: string;
  readonly tokens: number;
  readonly usd: number;
  readonly failure: { kind: string; step: string | null; message: string } | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export const DEFAULT_PAGE = 50;

const encodeCursor = (row: { createdAt: number; runId: string }) => Buffer.from(JSON.stringify([row.createdAt, row.runId])).toString('base64url');

function decodeCursor(cursor: string): { createdAt: number; runId: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') return { createdAt: value[0], runId: value[1] };
  } catch {
    // reported below
  }
  throw new ApiError(400, 'invalid_request', 'cursor: not a cursor this server gave (pass nextCursor as it came)', 'cursor');
}

/** Newest first; among runs created in the same millisecond, by id descending. */
const newestFirst = (a: { createdAt: number; runId: string }, b: { createdAt: number; runId: string }) =>
  b.createdAt - a.createdAt || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0);

export async function listPage(reader: RunReader, params: ListParams): Promise<{ runs: RunRow[]; nextCursor: string | null }> {
  const limit = params.limit ?? DEFAULT_PAGE;
  const after = params.cursor !== undefined ? decodeCursor(params.cursor) : undefined;
  const filter = { ...(params.status ? { status: params.status as RunStatus[] } : {}), ...(params.workflow ? { workflow: params.workflow } : {}) };
  checkStatuses(filter.status);
  const rows = (await runSummaries(reader, filter)).map(
    // The row of `list --json` (listRuns), with the cost beside the tokens.
    (r): RunRow => ({ runId: r.runId, workflow: r.workflow, status: r.status, version: r.version, tokens: r.usage.totalTokens, usd: r.usage.usd, failure: r.failure, createdAt: r.createdAt, updatedAt: r.updatedAt }),
  );
  const selected = rows
    .filter((r) => params.since === undefined || r.createdAt >= params.since)
    .filter((r) => params.until === undefined || r.createdAt < params.until)
    .filter((r) => params.minCost === undefined || r.usd >= params.minCost)
    .filter((r) => params.maxCost === undefined || r.usd <= params.maxCost)
    .sort(newestFirst)
    .filter((r) => after === undefined || newestFirst(after, r) < 0);
  const runs = selected.slice(0, limit);
  const last = runs[runs.length - 1];
  return { runs, nextCursor: selected.length > limit && last ? encodeCursor(last) : null };
}
