/**
 * Whether `stepwise redrive <runId>` (`engine.redrive`) has something to run
 * again: the run failed in a `map` step because of its items, whose indexes
 * the step's failure names; or it failed at a `parallel` step because a map in
 * its branches failed so in its latest visit (the parallel step kept a
 * checkpoint then, see ./redrive.ts). A map that failed before any item ran
 * (its items are not an array) is not: a redrive would find no failed item.
 * Read from the stored record alone, so every run view can say it.
 */
import type { Workflow } from '../definition/schema.js';
import { allSteps, sequenceOf } from '../definition/sequences.js';
import { kindOf } from '../kinds/index.js';
import type { RunStatus } from '../run/types.js';
import { activeStepsOf, type SnapshotLike } from './position.js';

const failedOnItems = (snapshot: SnapshotLike, step: string) => {
  const result = snapshot.context.steps[step];
  return result?.status === 'failed' && (result.error?.items?.length ?? 0) > 0 && result.visit === snapshot.context.visits[step];
};

/** Whether step `id` sits, at any depth, in a branch of step `container`. */
export function isInside(workflow: Workflow, id: string, container: string): boolean {
  for (let owner = sequenceOf(workflow, id)?.owner ?? null, depth = 0; owner !== null && depth < 64; owner = sequenceOf(workflow, owner)?.owner ?? null, depth++) {
    if (owner === container) return true;
  }
  return false;
}

export function isRedrivable(workflow: Workflow, status: RunStatus, snapshot: SnapshotLike): boolean {
  if (status !== 'failed') return false;
  for (const s of activeStepsOf(workflow, snapshot).steps) {
    if (s.phase !== 'failed') continue;
    if (s.kind === 'map' && failedOnItems(snapshot, s.id)) return true;
    if (s.kind === 'parallel' && allSteps(workflow).some(([id, step]) => kindOf(step)?.name === 'map' && isInside(workflow, id, s.id) && failedOnItems(snapshot, id))) return true;
  }
  return false;
}
