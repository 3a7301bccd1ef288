/**
 * `redrive`: a run that failed in a `map` step (more items failed than it
 * tolerates) starts its failed items again, each as a new child run (a new
 * redrive round, attempts counted afresh), keeping the outputs of the items
 * that succeeded; the run then resumes at the map, which waits for the new
 * runs and goes on.
 */
import { StepwiseError } from '../errors.js';
import { kindOf } from '../kinds/index.js';
import { allSteps } from '../definition/sequences.js';
import type { MapSpec } from '../kinds/map-body.js';
import type { RunRecord } from '../run/types.js';
import type { Store } from '../store/types.js';
import { childBudget } from './child-budget.js';
import { childIdOf } from './child-ids.js';
import type { ChildRuns } from './children.js';
import { itemRuns, itemState, itemsUsage, newest } from './map-items.js';
import { activeStepsOf } from './position.js';
import { snapshotOf } from './view.js';

/** The map step a failed run stopped in, or a usage error saying why there is nothing to redrive. */
export function failedMap(record: RunRecord): { step: string; spec: MapSpec } {
  const workflow = record.definition.workflow;
  const stopped = activeStepsOf(workflow, snapshotOf(record)).steps.find((s) => s.kind === 'map' && s.phase === 'failed');
  const spec: object | undefined = stopped ? workflow.steps[stopped.id] : undefined;
  if (record.status !== 'failed' || !stopped || !spec || !isMapSpec(spec)) {
    const nested = record.status === 'failed' ? nestedFailedMap(record) : null;
    if (nested) {
      throw new StepwiseError(
        'usage',
        `Run "${record.id}": map step "${nested.map}" failed inside parallel step "${nested.container}" (item ${nested.items.join(', ')}); redrive re-runs the items of a map the run stopped in, not one inside a branch, which the failed parallel step has left. Use resume, which runs "${nested.container}" again, its map's items included.`,
      );
    }
    throw new StepwiseError(
      'usage',
      `Run "${record.id}" did not fail in a map step (it is ${record.status}${record.failure?.step ? `, at "${record.failure.step}"` : ''}): redrive re-runs the failed items of a failed map; use resume to continue other runs.`,
    );
  }
  return { step: stopped.id, spec };
}

/** A map inside a branch whose items failed it, and the step holding the branch the run failed at: what redrive cannot re-run. */
function nestedFailedMap(record: RunRecord): { map: string; container: string; items: readonly number[] } | null {
  const workflow = record.definition.workflow;
  const context = snapshotOf(record).context;
  for (const [id, step] of allSteps(workflow)) {
    const items = context.steps[id]?.error?.items;
    if (isMapSpec(step) && !(id in workflow.steps) && items && items.length > 0) {
      return { map: id, container: record.failure?.step ?? 'its parallel step', items };
    }
  }
  return null;
}

function isMapSpec(step: object): step is MapSpec {
  return kindOf(step)?.name === 'map';
}

/** Starts a new run of each failed item of the map `record` failed in; returns the step and the items started again. */
export async function redriveItems(store: Store, children: ChildRuns, record: RunRecord): Promise<{ step: string; items: number[] }> {
  const { step, spec } = failedMap(record);
  const context = snapshotOf(record).context;
  const visit = context.visits[step] ?? 1;
  const byIndex = itemRuns(await store.list({ parentId: record.id }), step, visit);
  const items: number[] = [];
  for (const [index, runs] of [...byIndex.entries()].sort((a, b) => a[0] - b[0])) {
    const state = itemState(runs, spec.map.retry?.maxAttempts ?? 1);
    if (state.kind !== 'failed') continue;
    const last = newest(runs)!;
    const round = (last.options.parent?.round ?? 0) + 1;
    await children.again(last, childIdOf(record.id, step, visit, { index, round, attempt: 1 }), { runId: record.id, step, visit, index, round, attempt: 1 }, childBudget(context, undefined, undefined, itemsUsage(byIndex)));
    items.push(index);
  }
  return { step, items };
}
