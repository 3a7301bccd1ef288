/**
 * Runs of a store, newest first, filtered by status and workflow: the rows
 * `list --json` prints and the summaries `engine.list()` returns.
 */
import { StepwiseError } from '../errors.js';
import { runStatuses, type RunFilter, type RunRecord } from '../run/types.js';
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
  const records = await reader.list(filter);
  return records.map((r) => ({
    runId: r.id,
    workflow: r.workflow,
    status: r.status,
    version: r.version,
    usage: r.usage,
    failure: r.failure,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  }));
}

/** The runs `filter` selects, as `stepwise list --json` prints them; an unknown status is a usage error. */
export async function listRuns(reader: RunReader, filter: RunFilter = {}): Promise<RunListRow[]> {
  checkStatuses(filter.status);
  const runs = await runSummaries(reader, filter);
  return runs.map((r) => ({
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
  }));
}
