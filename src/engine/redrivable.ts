/**
 * Whether `stepwise redrive <runId>` (`engine.redrive`) has something to run
 * again, read from the stored record alone so every run view can say it: the
 * run failed in a `map` step because of its items, whose indexes the step's
 * failure names; or it failed at a `parallel` step that failed fast because
 * of such a map in a branch, at any depth (each failed parallel step names
 * the branch step that failed it, `error.member`, down to the map). A map
 * that failed before any item ran (its items are not an array) is not: a
 * redrive would find no failed item.
 */
import type { Workflow } from '../definition/schema.js';
import { stepOf } from '../definition/sequences.js';
import { kindOf } from '../kinds/index.js';
import type { RunStatus } from '../run/types.js';
import { activeStepsOf, type SnapshotLike } from './position.js';

/** Step `step`'s latest visit failed (its result is of that visit). */
const failedNow = (snapshot: SnapshotLike, step: string) => {
  const result = snapshot.context.steps[step];
  return result?.status === 'failed' && result.visit === snapshot.context.visits[step] ? result : undefined;
};

const failedOnItems = (snapshot: SnapshotLike, step: string) => (failedNow(snapshot, step)?.error?.items?.length ?? 0) > 0;

/**
 * The map in a branch whose failure on its items failed the run's failed `parallel` step `failedAt` (through the
 * parallel steps between them), with the innermost parallel step, which kept the checkpoint a redrive goes on from.
 */
export function failedBranchMap(workflow: Workflow, snapshot: SnapshotLike, failedAt: string | null | undefined): { parallel: string; map: string } | null {
  let step = failedAt ?? null;
  let parallel: string | null = null;
  for (let depth = 0; step !== null && depth < 64; depth++) {
    const result = failedNow(snapshot, step);
    const kind = kindOf(stepOf(workflow, step) ?? {})?.name;
    if (!result) return null;
    if (kind === 'map') return parallel !== null && failedOnItems(snapshot, step) ? { parallel, map: step } : null;
    if (kind !== 'parallel') return null;
    parallel = step;
    step = result.error?.member ?? null;
  }
  return null;
}

export function isRedrivable(workflow: Workflow, status: RunStatus, snapshot: SnapshotLike): boolean {
  if (status !== 'failed') return false;
  const active = activeStepsOf(workflow, snapshot).steps;
  if (active.some((s) => s.kind === 'map' && s.phase === 'failed' && failedOnItems(snapshot, s.id))) return true;
  const failedAt = snapshot.context.failure?.step;
  return active.some((s) => s.kind === 'parallel' && s.phase === 'failed' && s.id === failedAt) && failedBranchMap(workflow, snapshot, failedAt) !== null;
}
