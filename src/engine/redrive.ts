/**
 * `redrive`: a run that failed in a `map` step (more items failed than it
 * tolerates) starts its failed items again, each as a new child run (a new
 * redrive round, attempts counted afresh), keeping the outputs of the items
 * that succeeded; the run then resumes at the map, which waits for the new
 * runs and goes on.
 *
 * A map inside a `parallel` branch fails its parallel step (fail_fast), which
 * leaves the map. That step kept, in its `failed` journal entry, the run's
 * snapshot of the moment the map failed (its `checkpoint`): a redrive goes on
 * from there. Branches that had ended keep their outputs, the map's failed
 * items run again, a sibling step the failure aborted runs its attempt again,
 * and the child runs the failure cancelled under such a step are taken back
 * where they were (their `cancelled` entry kept their record's state). What
 * the run spent after the checkpoint stays charged (`carried`).
 */
import { stepRunOf } from '../compile/context.js';
import { StepwiseError } from '../errors.js';
import { kindOf } from '../kinds/index.js';
import { stepOf } from '../definition/sequences.js';
import type { MapSpec } from '../kinds/map-body.js';
import { addUsage, subUsage, zeroUsage, type Failure, type JournalEntry, type RunRecord, type RunStatus, type Usage } from '../run/types.js';
import type { Store } from '../store/types.js';
import { childBudget } from './child-budget.js';
import { CHILD_KINDS } from './child-events.js';
import { childIdOf } from './child-ids.js';
import type { ChildRuns } from './children.js';
import { itemRuns, itemState, itemsUsage, newest } from './map-items.js';
import { activeStepsOf, activeVisits, type SnapshotLike } from './position.js';
import type { DriveOptions } from './driver.js';
import { failedBranchMap } from './redrivable.js';
import { upgradeSnapshot } from './upgrade.js';
import { snapshotOf } from './view.js';

/** What a `cancelled` entry of a child run keeps of the record it cancelled: what a redrive of its parent puts back. */
export interface CancelledState {
  readonly status: RunStatus;
  readonly snapshot: unknown;
  readonly wakeAt: number | null;
  readonly failure: Failure | null;
  readonly output: unknown;
}

/** Where a redrive goes on from: the run's snapshot, or the checkpoint of the parallel step a map in a branch failed. */
export interface RedrivePoint {
  /** The snapshot the run goes on from, with the failed maps active in their `failed` phase. */
  readonly snapshot: unknown;
  /** The failed maps in it, each with its spec. */
  readonly maps: ReadonlyArray<{ readonly step: string; readonly spec: MapSpec }>;
  /** The journal entry holding the checkpoint (null: the run's own snapshot). */
  readonly checkpoint: JournalEntry | null;
  /** What the run spent after the checkpoint, which the checkpoint's usage does not count. */
  readonly carried: Usage | null;
  /** What the run was charged after the checkpoint for the children of steps the redrive takes back (aborted), by step. */
  readonly aborted: ReadonlyMap<string, Usage>;
}

function isMapSpec(step: object): step is MapSpec {
  return kindOf(step)?.name === 'map';
}

/** The maps active in `snapshot` whose phase passes `phase`. */
function activeMaps(record: RunRecord, snapshot: SnapshotLike, phase: (phase: string | null) => boolean): Array<{ step: string; spec: MapSpec }> {
  const workflow = record.definition.workflow;
  return activeStepsOf(workflow, snapshot).steps.flatMap((s) => {
    const spec: object | undefined = s.kind === 'map' && phase(s.phase) ? stepOf(workflow, s.id) : undefined;
    return spec && isMapSpec(spec) ? [{ step: s.id, spec }] : [];
  });
}

/** The maps of `snapshot` in their `failed` phase. */
const failedMaps = (record: RunRecord, snapshot: SnapshotLike) => activeMaps(record, snapshot, (phase) => phase === 'failed');

const notInMap = (record: RunRecord) =>
  new StepwiseError(
    'usage',
    `Run "${record.id}" did not fail in a map step (it is ${record.status}${record.failure?.step ? `, at "${record.failure.step}"` : ''}): redrive re-runs the failed items of a failed map; use resume to continue other runs.`,
  );

/**
 * Where `record` is redriven from, or a usage error saying why there is nothing to redrive: a map the run stopped in,
 * else the checkpoint kept by the latest failure of the parallel step that a map's failure failed the run through
 * (as {@link isRedrivable} reads it).
 */
export async function redrivePoint(store: Store, record: RunRecord): Promise<RedrivePoint> {
  if (record.status !== 'failed') throw notInMap(record);
  const stored = snapshotOf(record);
  const own = failedMaps(record, stored);
  if (own.length > 0) return { snapshot: record.snapshot, maps: own, checkpoint: null, carried: null, aborted: new Map() };
  const chain = failedBranchMap(record.definition.workflow, stored, stored.context.failure?.step);
  if (!chain) throw notInMap(record);
  const journal = await store.journal(record.id);
  // The parallel step's latest failure: the one the chain names.
  const latest = journal.findLast((e) => e.event === 'failed' && e.step === chain.parallel);
  const checkpoint = latest && latest.visit === (stored.context.visits[chain.parallel] ?? 0) ? checkpointOf(latest) : undefined;
  const restored = checkpoint === undefined ? null : upgradeSnapshot(checkpoint as SnapshotLike);
  const maps = restored === null ? [] : failedMaps(record, restored);
  if (!latest || restored === null || maps.length === 0) {
    throw new StepwiseError(
      'usage',
      `Run "${record.id}": map step "${chain.map}" failed inside parallel step "${chain.parallel}", whose failure kept no checkpoint to redrive from (a run of an older version); use resume, which runs "${record.failure?.step ?? chain.parallel}" again.`,
    );
  }
  // What the run was charged after the checkpoint for the children of a step it then left and the redrive takes back
  // (aborted, `run.charge`): that step charges its children's whole spend again when it settles. (What an aborted
  // work step's attempt was billed stays carried: its attempt runs again, and is billed again.)
  const workflow = record.definition.workflow;
  const active = activeVisits(workflow, restored);
  let carried = subUsage(record.usage, restored.context.usage);
  const aborted = new Map<string, Usage>();
  const startsChildren = (step: string) => CHILD_KINDS.has(kindOf(stepOf(workflow, step) ?? {})?.name ?? '');
  for (const entry of journal) {
    const charged = entry.seq > latest.seq && entry.step !== null && active.get(entry.step) === entry.visit && startsChildren(entry.step) ? abortCharge(entry) : null;
    if (!charged) continue;
    carried = subUsage(carried, charged);
    aborted.set(entry.step!, addUsage(aborted.get(entry.step!) ?? zeroUsage, charged));
  }
  return { snapshot: checkpoint, maps, checkpoint: latest, carried, aborted };
}

/** The `data` of `entry` when it is an `event` entry with data, else undefined. */
export function entryData(entry: JournalEntry, event: JournalEntry['event']): Readonly<Record<string, unknown>> | undefined {
  return entry.event === event && typeof entry.data === 'object' && entry.data !== null ? (entry.data as Record<string, unknown>) : undefined;
}

/**
 * What the run was charged when a step was aborted, if `entry` says so: a step with child runs, what they spent
 * (./child-budget.ts `chargeAborted`); a work step, what its attempt was billed before it ended (./work-handler.ts).
 */
export function abortCharge(entry: JournalEntry): Usage | null {
  const data = entryData(entry, 'failed');
  return data?.['aborted'] === true && typeof data['charged'] === 'object' && data['charged'] !== null ? (data['charged'] as Usage) : null;
}

/** The snapshot a parallel step's `failed` entry kept of the moment a map in its branch failed, if any. */
export function checkpointOf(entry: JournalEntry): unknown {
  return entryData(entry, 'failed')?.['checkpoint'];
}

/** What a child's `cancelled` entry kept of the record it cancelled, if any. */
function cancelledStateOf(entry: JournalEntry): CancelledState | undefined {
  const kept = entryData(entry, 'cancelled')?.['restore'] as Partial<CancelledState> | undefined;
  return kept && typeof kept.status === 'string' && kept.snapshot ? (kept as CancelledState) : undefined;
}

/**
 * Readies the redrive of `record`: starts the failed items again and, from a checkpoint, takes back the children the
 * failure cancelled. Returns the record to drive (with the snapshot it goes on from) and the event that resumes it.
 */
export async function prepareRedrive(store: Store, children: ChildRuns, record: RunRecord, at: number): Promise<{ record: RunRecord; event: NonNullable<DriveOptions['event']> }> {
  const point = await redrivePoint(store, record);
  // From a checkpoint (a map in a parallel branch): the children the failure cancelled under the steps it had active go
  // on (taken back first, so a cancelled item is not also started again).
  if (point.checkpoint) await uncancelChildren(store, record, point.snapshot, at);
  const started = await redriveItems(store, children, record, point);
  const { step } = point.maps[0]!;
  const items = started.find((m) => m.step === step)?.items ?? [];
  const maps = started.filter((m) => m.items.length > 0);
  const visits = upgradeSnapshot(point.snapshot as SnapshotLike).context.visits;
  const from = point.checkpoint ? { checkpoint: point.checkpoint.seq, carried: point.carried, ...(maps.length > 1 ? { maps } : {}) } : {};
  const carried = point.carried ? { carried: { step, usage: point.carried } } : {};
  return {
    record: point.checkpoint ? { ...record, snapshot: point.snapshot } : record,
    event: {
      event: { type: 'run.resume', at, budget: snapshotOf(record).context.budget, redrive: true, ...carried },
      journal: [{ step, visit: visits[step] ?? 0, attempt: 0, event: 'resumed', at, data: { redrive: true, step, items, ...from } }],
    },
  };
}

/**
 * Starts a new run of each failed item of the maps active where `point` goes on from (the failed map, and from a
 * checkpoint also a map in another branch that was still running); returns them with the items started again.
 */
async function redriveItems(store: Store, children: ChildRuns, record: RunRecord, point: RedrivePoint): Promise<Array<{ step: string; items: number[] }>> {
  const snapshot = upgradeSnapshot(point.snapshot as SnapshotLike);
  const context = snapshot.context;
  const all = await store.list({ parentId: record.id });
  const started: Array<{ step: string; items: number[] }> = [];
  for (const { step, spec } of activeMaps(record, snapshot, () => true)) {
    const visit = context.visits[step] ?? 1;
    const byIndex = itemRuns(all, step, visit);
    const items: number[] = [];
    for (const [index, runs] of [...byIndex.entries()].sort((a, b) => a[0] - b[0])) {
      const state = itemState(runs, spec.map.retry?.maxAttempts ?? 1);
      if (state.kind !== 'failed') continue;
      const last = newest(runs)!;
      const round = (last.options.parent?.round ?? 0) + 1;
      const link = { runId: record.id, step, visit, index, round, attempt: 1 };
      // The run's budget and spend as stored, less what the map's items spent that the run was not charged for (by
      // the map's settlings before the checkpoint, or when it was aborted after it).
      const charged = addUsage(stepRunOf(context, step).charged ?? zeroUsage, point.aborted.get(step) ?? zeroUsage);
      const budget = childBudget({ budget: snapshotOf(record).context.budget, usage: record.usage }, undefined, undefined, subUsage(itemsUsage(byIndex), charged));
      await children.again(last, childIdOf(record.id, step, visit, { index, round, attempt: 1 }), link, budget);
      items.push(index);
    }
    started.push({ step, items });
  }
  return started;
}

/**
 * Takes back the children of `record` that were cancelled under a step that `snapshot` has active at the same visit
 * (the redrive goes back to before the failure that cancelled them), and theirs: each is stored again as its
 * `cancelled` entry kept it, with a `resumed` entry.
 */
async function uncancelChildren(store: Store, record: RunRecord, snapshot: unknown, at: number): Promise<void> {
  const active = activeVisits(record.definition.workflow, upgradeSnapshot(snapshot as SnapshotLike));
  for (const child of await store.list({ parentId: record.id, status: ['cancelled'] })) {
    const link = child.options.parent;
    if (!link || active.get(link.step) !== link.visit) continue;
    const journal = await store.journal(child.id);
    const kept = journal.length > 0 ? cancelledStateOf(journal[journal.length - 1]!) : undefined;
    if (!kept) continue;
    const back = await store.commit(
      child.id,
      { status: kept.status, snapshot: kept.snapshot, failure: kept.failure ?? null, ...(kept.output !== undefined ? { output: kept.output } : {}), usage: child.usage, wakeAt: kept.wakeAt },
      [{ step: null, visit: 0, attempt: 0, event: 'resumed', at, data: { uncancelled: true, parent: record.id } }],
      child.revision,
    );
    await uncancelChildren(store, back, kept.snapshot, at);
  }
}
