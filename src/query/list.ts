/**
 * Runs of a store, newest first, filtered by status and workflow: the rows
 * `list --json` prints and the summaries `engine.list()` returns.
 */
import { StepwiseError } from '../errors.js';
import { runStatuses, type RunFilter, type RunRecord } from '../run/types.js';
import { usageCountedOnce } from './counted-once.js';
import type { RunReader } from './reader.js';
import { iso } from './run.js';

/** One run as `engine.list()` returns it. */
export interface RunSummary {
  readonly runId: string;
  readonly workflow: string;
  readonly status: RunRecord['status'];
  readonly version: string;
  readonly usage: RunRecord['usage'];
  readonly failure: RunRecord['failure'];
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One run as `stepwise list --json` prints it. */
export interface RunListRow {
  readonly runId: string;
  readonly workflow: string;
  readonly status: RunRecord['status'];
  readonly version: string;
  readonly tokens: number;
  readonly failure: RunRecord['failure'];
  readonly createdAt: number;
  readonly createdAtIso: string;
  readonly updatedAt: number;
  readonly updatedAtIso: string;
}

/** Throws a usage error naming the valid statuses when `statuses` holds another. */
export function checkStatuses(statuses: readonly string[] | undefined): void {
  const unknown = (statuses ?? []).filter((s) => !(runStatuses as readonly string[]).includes(s));
  if (unknown.length) throw new StepwiseError('usage', `Unknown status ${unknown.join(', ')}: use ${runStatuses.join(', ')}.`);
}

/**
 * A listing's filter: the store's, and `children` (default false) to list
 * child runs (a map's items, sub-workflows) beside the top-level runs. Without
 * it, and without a `parentId`, a listing holds top-level runs only, as
 * `stepwise list` does unless `--children`.
 */
export interface ListFilter extends RunFilter {
  readonly children?: boolean;
}

/** The store filter of a listing: top-level runs only unless `children` or a `parentId` says otherwise. */
export function storeFilter(filter: ListFilter = {}): RunFilter {
  const { children, ...rest } = filter;
  return children === true || rest.parentId !== undefined ? rest : { ...rest, parentId: null };
}

/** The runs `filter` selects, as `engine.list()` returns them. */
export async function runSummaries(reader: RunReader, filter?: RunFilter): Promise<RunSummary[]> {
  return (await reader.list(filter)).map(summaryOf);
}

/** The runs `filter` selects, as `stepwise list --json` prints them; an unknown status is a usage error. */
export async function listRuns(reader: RunReader, filter: RunFilter = {}): Promise<RunListRow[]> {
  checkStatuses(filter.status);
  return (await reader.list(filter)).map((r) => listRowOf(summaryOf(r)));
}

/**
 * The rows of {@link listRuns} and the tokens their runs spent together, as `stepwise list`'s totals line gives
 * them: each token once, though a run's tokens include its child runs' (see usageCountedOnce).
 */
export async function listRunsWithTotal(reader: RunReader, filter: RunFilter = {}): Promise<{ rows: RunListRow[]; tokens: number }> {
  checkStatuses(filter.status);
  const records = await reader.list(filter);
  return { rows: records.map((r) => listRowOf(summaryOf(r))), tokens: (await usageCountedOnce(reader, records)).totalTokens };
}

function summaryOf(r: RunRecord): RunSummary {
  return { runId: r.id, workflow: r.workflow, status: r.status, version: r.version, usage: r.usage, failure: r.failure, createdAt: r.createdAt, updatedAt: r.updatedAt };
}

function listRowOf(r: RunSummary): RunListRow {
  return {
    runId: r.runId,
    workflow: r.workflow,
    status: r.status,
    version: r.version,
    tokens: r.usage.totalTokens,
    failure: r.failure,
    createdAt: r.createdAt,
    createdAtIso: iso(r.createdAt),
    updatedAt: r.updatedAt,
    updatedAtIso: iso(r.updatedAt),
  };
}
