/**
 * The parts every kind whose steps an executor performs shares (`claude`,
 * `analyze`, `tool`, and kinds built the same way): it flows on by `next`,
 * compiles to the work state (ready → running → retrying | failed |
 * budget_exhausted), wakes for its retry backoff, offers the work routes to
 * path tests, and is driven by the work handler. A kind spreads these and adds
 * its own schema, expressions, tools and label (and may override any of them).
 */
import { stepRunOf } from '../compile/context.js';
import { workHandler, type WorkHandlerOptions } from '../engine/work-handler.js';
import type { StepExecutor } from '../steps/types.js';
import type { StepKindDefinition } from './types.js';
import { workEdges, workPathEvents, workState, workWakeAt, type WorkFields } from './work.js';

type WorkParts = 'flows' | 'entered' | 'state' | 'edges' | 'wakeAt' | 'pathEvents' | 'executor' | 'handler';

/** The shared parts of work kind `name`, whose steps `executor` performs. */
export function workKind<S extends WorkFields>(name: string, executor: StepExecutor, options: WorkHandlerOptions<S> = {}): Pick<StepKindDefinition<S>, WorkParts> {
  return {
    flows: true,
    entered: 'running',
    state: (id, step, scope) => workState(id, step, scope, name),
    edges: (_id, step, next) => workEdges(step, next),
    wakeAt: (id, _step, phase, context) => workWakeAt(phase, stepRunOf(context, id).retryAt),
    pathEvents: (id, _step, phase) => workPathEvents(id, phase),
    executor,
    handler: workHandler<S>(executor, options),
  };
}
