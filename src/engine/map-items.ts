/**
 * The items of a `map` step, read from its child runs: each item is a child
 * run of the map body (an inline definition), one per attempt, and the store
 * is the truth about them. An item is `done` once any of its runs is done
 * (its output is kept across redrives); otherwise its newest run (by redrive
 * round, then attempt) says where it is.
 */
import type { ParentLink, RunRecord, Usage } from '../run/types.js';
import { addUsage, zeroUsage } from '../run/types.js';

/** Where one item is. */
export type ItemState =
  | { readonly kind: 'new' } // no run yet
  | { readonly kind: 'done'; readonly run: RunRecord }
  | { readonly kind: 'live'; readonly run: RunRecord } // running or waiting: drive it
  | { readonly kind: 'retry'; readonly run: RunRecord } // failed, with attempts left in its round: a new run
  | { readonly kind: 'exhausted'; readonly run: RunRecord } // out of budget: resumable
  | { readonly kind: 'failed'; readonly run: RunRecord }; // failed for good (a redrive starts a new round)

export interface ItemRuns {
  /** The runs of each item, by index. */
  readonly runs: Map<number, RunRecord[]>;
}

const linkOf = (run: RunRecord): ParentLink | undefined => run.options.parent;
const round = (run: RunRecord) => linkOf(run)?.round ?? 0;
const attempt = (run: RunRecord) => linkOf(run)?.attempt ?? 1;

/** The newest run of an item: highest round, then attempt. */
export function newest(runs: readonly RunRecord[]): RunRecord | undefined {
  let found: RunRecord | undefined;
  // The first of the highest round, then attempt (as a stable sort, newest first, would put it).
  for (const run of runs) if (!found || (round(run) - round(found) || attempt(run) - attempt(found)) > 0) found = run;
  return found;
}

/** The runs of the items of step `step`'s visit `visit`, by index. */
export function itemRuns(children: readonly RunRecord[], step: string, visit: number): Map<number, RunRecord[]> {
  const byIndex = new Map<number, RunRecord[]>();
  for (const child of children) {
    const link = linkOf(child);
    if (!link || link.step !== step || link.visit !== visit || link.index === undefined) continue;
    byIndex.set(link.index, [...(byIndex.get(link.index) ?? []), child]);
  }
  return byIndex;
}

/** Where an item is, given its runs and the attempts an item may take in one round. */
export function itemState(runs: readonly RunRecord[], maxAttempts: number): ItemState {
  const done = runs.find((r) => r.status === 'done');
  if (done) return { kind: 'done', run: done };
  const last = newest(runs);
  if (!last) return { kind: 'new' };
  if (last.status === 'running' || last.status === 'waiting') return { kind: 'live', run: last };
  if (last.status === 'budget_exhausted') return { kind: 'exhausted', run: last };
  return attempt(last) < maxAttempts && last.status !== 'cancelled' ? { kind: 'retry', run: last } : { kind: 'failed', run: last };
}

/** The next run of an item: attempt 1 of round 0 for a new item, the next attempt in its round for a retry. */
export function nextAttempt(state: ItemState): { round: number; attempt: number } {
  if (state.kind === 'new') return { round: 0, attempt: 1 };
  return { round: round(state.run), attempt: attempt(state.run) + 1 };
}

/** What every run of the items spent, failed attempts included. */
export function itemsUsage(byIndex: ReadonlyMap<number, readonly RunRecord[]>): Usage {
  let total = zeroUsage;
  for (const runs of byIndex.values()) for (const run of runs) total = addUsage(total, run.usage);
  return total;
}

/** Whether `failures` of `items` are more than `tolerated` allows: a count, or a percentage of the items ("10%"). */
export function tooManyFailures(failures: number, items: number, tolerated: number | string | undefined): boolean {
  if (failures === 0) return false;
  if (tolerated === undefined) return true;
  if (typeof tolerated === 'number') return failures > tolerated;
  const percent = Number(tolerated.replace('%', ''));
  return (failures / Math.max(items, 1)) * 100 > percent;
}
