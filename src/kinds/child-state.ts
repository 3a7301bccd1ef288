/**
 * The compiled state of a step whose work is done by child runs (`workflow`,
 * `map`): `ready` (`step.run`, guarded by the visit limit and the budget, the
 * projected cost being the step's budget slice) → `running` (the children run
 * inside the parent's drive) ⇄ `waiting` (a child waits for an event from
 * outside: the run is `waiting`) → `step.done` (next) | `step.failed`
 * (`onError`, else `failed`; a child out of budget → `budget_exhausted`).
 * `failed` and `budget_exhausted` accept `run.resume`, which goes back to
 * `running` with the same children (the handler resumes them). No retry at
 * this level: a child has its own retries, a map item its own re-runs.
 */
import { FAILED_STATE, stepRunOf, type RunContext } from '../compile/context.js';
import { target, type StateConfig, type Transitions } from '../compile/setup.js';
import { resolveLimits } from '../policy/limits.js';
import type { CompileScope } from './types.js';
import { ignoreOthers, readyState, type WorkFields } from './work.js';

export function childState(id: string, step: WorkFields, scope: CompileScope, kind: string): StateConfig {
  const limits = resolveLimits(scope.workflow.limits);
  const next = scope.next ?? null;
  const maxVisits = step.maxVisits ?? limits.maxVisits;
  const params = { step: id };
  const charge = { type: 'chargeChildren', params } as const;
  const resume = { target: 'running', actions: { type: 'resumeRun', params } } as const;
  const settled: Transitions = {
    'step.done': [ignoreOthers(id), { target: next ? target(next) : target(FAILED_STATE), actions: [charge, { type: 'recordOutput', params }] }],
    'step.failed': [
      ignoreOthers(id),
      { guard: 'budgetRefused', target: 'budget_exhausted', actions: [charge, { type: 'exhaustBudget', params }] },
      ...(step.onError ? [{ target: target(step.onError), actions: [charge, { type: 'routeError', params } as const] }] : []),
      { target: 'failed', actions: [charge, { type: 'failStep', params }] },
    ],
  };
  const rest = (waiting: 'running' | 'waiting'): Transitions['child.rest'] => [
    ignoreOthers(id),
    { guard: 'childWaiting', target: waiting === 'waiting' ? undefined : 'waiting', actions: [charge, { type: 'restChild', params }] },
    { target: waiting === 'waiting' ? 'running' : undefined, actions: [charge, { type: 'restChild', params }] },
  ];
  return {
    initial: 'ready',
    entry: [{ type: 'enterStep', params: { step: id, status: 'running' } }],
    meta: { stepwise: { kind } },
    states: {
      ready: readyState(id, maxVisits),
      running: { on: { ...settled, 'child.rest': rest('running') } },
      waiting: { on: { ...settled, 'child.rest': rest('waiting'), 'child.wake': [ignoreOthers(id), { target: 'running', actions: { type: 'restChild', params } }] } },
      budget_exhausted: { on: { 'run.resume': resume } },
      failed: { on: { 'run.resume': resume } },
    },
  };
}

/** When a step with child runs wakes by itself: its children's own timer (a backoff, a wait's timeout) while they run or wait. */
export function childWakeAt(id: string, _step: unknown, phase: string | null, context: RunContext): number | null {
  return phase === 'running' || phase === 'waiting' ? stepRunOf(context, id).retryAt : null;
}
