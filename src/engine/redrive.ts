/**
 * `redrive`: a run that failed in a `map` step (more items failed than it
 * tolerates) starts its failed items again, each as a new child run (a new
 * redrive round, attempts counted afresh), keeping the outputs of the items
 * that succeeded; the run then resumes at the map, which waits for the new
 * runs and goes on.
 */
import { StepwiseError } from '../errors.js';
import { kindOf } from '../kinds/index.js';
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
    throw new StepwiseError(
      'usage',
      `Run "${record.id}" did not fail in a map step (it is ${record.status}${record.failure?.step ? `, at "${record.failure.step}"` : ''}): redrive re-runs the failed items of a failed map; use resume to continue other runs.`,
    );
  }
  return { step: stopped.id, spec };
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
