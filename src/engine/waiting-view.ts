/**
 * The view of a run as every surface shows it (`run`, `send`, `show`, `GET
 * /api/runs/:id`, its stream): a run that waits at a step whose child runs wait
 * (a `workflow` step's child, a map's items) says what they accept, since
 * `send` to the run reaches them, and when the first of them times out.
 */
import type { RunRecord } from '../run/types.js';
import type { Store } from '../store/types.js';
import { waitingChain } from './child-events.js';
import { activeStepsOf } from './position.js';
import { snapshotOf, toView, type RunView } from './view.js';

/**
 * {@link toView} of `record`, its `waitingFor` filled from its waiting descendants when it waits on them.
 * @example
 * (await runView(store, parent)).waitingFor; // { step: 'sub', events: ['APPROVE'], timeoutAt: … }
 */
export async function runView(reader: Pick<Store, 'list'>, record: RunRecord): Promise<RunView> {
  const view = toView(record);
  if (view.status !== 'waiting' || view.waitingFor) return view;
  const step = activeStepsOf(record.definition.workflow, snapshotOf(record)).steps.find((s) => s.phase === 'waiting')?.id;
  const accepted = new Set<string>();
  await waitingChain(reader, record, '', accepted);
  if (!step || accepted.size === 0) return view;
  const waitingFor = { step, events: [...accepted], timeoutAt: record.wakeAt };
  return { ...view, waitingFor, waits: [waitingFor] };
}
