/**
 * Events and cancels that cross the parent/child line. An event sent to a
 * parent that none of its own steps accepts goes to the waiting child (or
 * grandchild) that accepts it; an event sent to a child directly reaches it
 * the same way. Either way the child's ancestors are then woken
 * (`child.wake`) from the bottom up, so each parent step sees its child move.
 * A cancelled run cancels its children that have not ended; a run that left
 * the step that started a child still running or waiting (it ended, a branch
 * failed fast, the deadline passed) cancels that child.
 */
import type { NewJournalEntry, RunRecord } from '../run/types.js';
import { finishedStatuses } from '../run/types.js';
import type { Store } from '../store/types.js';
import { isWaitEventType } from '../compile/events.js';
import { anyStep } from '../definition/sequences.js';
import { kindOf } from '../kinds/index.js';
import type { DriveOptions } from './driver.js';
import type { CancelledState } from './redrive.js';
import { activeStepsOf, activeVisits, positionOf, waitEvents } from './position.js';
import { isResumable, snapshotOf } from './view.js';

/** Drives a child run by itself (not from inside its parent's drive), with an event first. */
export type DriveChild = (record: RunRecord, event?: DriveOptions['event']) => Promise<RunRecord>;

/** The events a run's own steps accept now, each with the step that takes it. */
export function acceptedEvents(record: RunRecord): Array<{ step: string; events: string[] }> {
  const workflow = record.definition.workflow;
  const active = activeStepsOf(workflow, snapshotOf(record)).steps;
  const open = record.status === 'waiting' || (record.status === 'running' && active.length > 1);
  return open ? active.map((s) => ({ step: s.id, events: waitEvents(workflow, s.id, s.phase) })) : [];
}

/** How deep a chain of waiting descendants is followed (child runs nest at most `limits.maxDepth` ≤ 64 deep). */
const MAX_CHAIN_DEPTH = 64;

/**
 * The chain of waiting descendants (child first, the one that accepts `type` last), or null; `accepted` collects what
 * they accept (with a `type` none accepts, `''`, what every waiting descendant accepts).
 */
export async function waitingChain(
  store: Pick<Store, 'list'>,
  record: RunRecord,
  type: string,
  accepted: Set<string>,
  step?: string,
  depth = 0,
): Promise<RunRecord[] | null> {
  if (depth >= MAX_CHAIN_DEPTH) return null;
  const waiting = (await store.list({ parentId: record.id, status: ['waiting'] })).reverse();
  // Named: only the children of that step of `record` (their own children are any of theirs).
  const children = step === undefined ? waiting : waiting.filter((c) => c.options.parent?.step === step);
  for (const child of children) {
    const own = acceptedEvents(child);
    for (const w of own) for (const e of w.events) accepted.add(e);
    if (own.some((w) => w.events.includes(type))) return [child];
  }
  for (const child of children) {
    const below = await waitingChain(store, child, type, accepted, undefined, depth + 1);
    if (below) return [child, ...below];
  }
  return null;
}

/** The run at the top of `record`'s parent chain (itself when it has no parent), with the chain from the root down to `record`. */
export async function rootOf(store: Store, record: RunRecord): Promise<{ root: RunRecord; chain: RunRecord[] }> {
  const chain = [record];
  let at = record;
  for (let depth = 0; at.options.parent && depth < 64; depth++) {
    const up = await store.get(at.options.parent.runId);
    if (!up) break;
    chain.unshift(up);
    at = up;
  }
  return { root: at, chain };
}

/** The event a run takes `type` with at `step`, and the journal entry recording it. */
export function eventFor(
  record: RunRecord,
  step: string,
  type: string,
  data: unknown,
  at: number,
  by?: string,
  admitted: Readonly<Record<string, unknown>> = {},
): NonNullable<DriveOptions['event']> {
  if (!isWaitEventType(type)) throw new Error(`"${type}" is not an event name`);
  const visit = snapshotOf(record).context.visits[step] ?? 0;
  // `admitted`: what the step's kind journals about the event's data (a review's edits).
  const journal: NewJournalEntry[] = [{ step, visit, attempt: 0, event: 'event', at, data: { type, data: data ?? null, ...(by !== undefined ? { by } : {}), ...admitted } }];
  return { event: { type, step, at, ...(data !== undefined ? { data } : {}) }, journal };
}

/** Wakes the ancestors of the last run of `chain` (root first), from the bottom up, root excluded: each one's step looks at its child again. */
export async function wakeAncestors(driveChild: DriveChild, chain: readonly RunRecord[], at: number): Promise<void> {
  for (let i = chain.length - 2; i >= 1; i--) {
    const link = chain[i + 1]!.options.parent;
    if (!link) continue;
    await driveChild(chain[i]!, { event: { type: 'child.wake', step: link.step, at }, journal: [] });
  }
}

/** The wake event of `parent` for its child `child`. */
export function wakeFor(child: RunRecord, at: number): NonNullable<DriveOptions['event']> | null {
  const link = child.options.parent;
  return link ? { event: { type: 'child.wake', step: link.step, at }, journal: [] } : null;
}

/**
 * Cancels the children of `runId` that have not ended (a failed child only while it could be resumed), and theirs.
 * `restorable`: their `cancelled` entries keep their state, for a redrive of an ancestor to take them back (the
 * cancelled run is itself a child, which such a redrive may take back).
 */
export async function cancelDescendants(store: Store, driveChild: DriveChild, runId: string, reason: string, at: number, restorable = false): Promise<void> {
  for (const child of await store.list({ parentId: runId })) {
    const stopped = finishedStatuses.includes(child.status) && !(child.status === 'failed' && isResumable(child.status, child.failure, positionOf(child.definition.workflow, snapshotOf(child))));
    if (stopped) continue;
    await cancelChild(driveChild, child, reason, runId, at, restorable);
  }
}

/**
 * Cancels one child run for `reason`, journaled as its parent's doing (and, through `driveChild`, its own children).
 * `restorable`: the entry keeps the state the child had (`restore`), which a redrive of the parent that goes back to
 * before the cancel puts back (./redrive.ts).
 */
function cancelChild(driveChild: DriveChild, child: RunRecord, reason: string, parent: string, at: number, restorable: boolean): Promise<RunRecord> {
  const restore: CancelledState = { status: child.status, snapshot: child.snapshot, wakeAt: child.wakeAt, failure: child.failure, output: child.output };
  const data = { reason, parent, ...(restorable ? { restore } : {}) };
  return driveChild(child, { event: { type: 'run.cancel', at, reason }, journal: [{ step: null, visit: 0, attempt: 0, event: 'cancelled', at, data }] });
}

/** The kinds whose steps' work is done by child runs. */
export const CHILD_KINDS: ReadonlySet<string> = new Set(['map', 'workflow']);

/** Whether a workflow has steps that start child runs (`map`, `workflow`), at any depth: known once per loaded workflow. */
export const startsChildren = anyStep((step) => CHILD_KINDS.has(kindOf(step)?.name ?? ''));

/**
 * The children of `parent` that still run or wait under a step visit the parent is no longer at: it ended (no step is
 * active), left the step, or entered it again. A child of the step the parent is at now is not one of them, nor is
 * one that stopped (done, failed, cancelled, out of budget), which only a resume of the parent's step goes on with.
 */
export function orphansOf(parent: RunRecord, children: readonly RunRecord[]): RunRecord[] {
  const live = children.filter((c) => c.status === 'running' || c.status === 'waiting');
  if (live.length === 0) return [];
  const at = activeVisits(parent.definition.workflow, snapshotOf(parent));
  return live.filter((c) => {
    const link = c.options.parent;
    return link !== undefined && at.get(link.step) !== link.visit;
  });
}

/** Cancels {@link orphansOf} `parent` (and, through `driveChild`, theirs). */
export async function cancelOrphans(store: Store, driveChild: DriveChild, parent: RunRecord, at: number): Promise<void> {
  if (!startsChildren(parent.definition.workflow)) return;
  for (const child of orphansOf(parent, await store.list({ parentId: parent.id, status: ['running', 'waiting'] }))) {
    const reason = `its parent run ${parent.id} is no longer at step "${child.options.parent!.step}" (${parent.status})`;
    await cancelChild(driveChild, child, reason, parent.id, at, true);
  }
}
