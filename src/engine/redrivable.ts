/**
 * Whether `stepwise redrive <runId>` (`engine.redrive`) has something to run
 * again: the run failed in a `map` step because of its items, whose indexes
 * the step's failure names. A map that failed before any item ran (its items
 * are not an array) is not: a redrive would find no failed item. Read from the
 * stored record alone, so every run view can say it.
 */
import type { Workflow } from '../definition/schema.js';
import type { RunStatus } from '../run/types.js';
import { activeStepsOf, type SnapshotLike } from './position.js';

export function isRedrivable(workflow: Workflow, status: RunStatus, snapshot: SnapshotLike): boolean {
  if (status !== 'failed') return false;
  return activeStepsOf(workflow, snapshot).steps.some(
    (s) => s.kind === 'map' && s.phase === 'failed' && (snapshot.context.steps[s.id]?.error?.items?.length ?? 0) > 0,
  );
}
