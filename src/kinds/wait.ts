/** `wait`: the run rests until an event it accepts arrives (human approval, an external system), or its timeout. */
import { z } from 'zod';
import { FAILED_STATE, stepRunOf, type RunContext } from '../compile/context.js';
import { isWaitEventType, type RunEvent } from '../compile/events.js';
import { target, type Transitions } from '../compile/setup.js';
import { Duration, EventName, Mapping, maxVisits, StepId } from '../definition/fields.js';
import { definitionMapping, evaluateMapping } from '../expr/index.js';
import { scopeOf } from '../steps/types.js';
import { StepwiseError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import { defineStepKind, type KindEdge, type KindFinding } from './types.js';
import { ignoreOthers, visitLimit } from './work.js';

export const WaitStep = z.strictObject({
  description: z.string().optional(),
  maxVisits,
  wait: z.strictObject({
    on: z.record(EventName, StepId).describe('Events accepted and the step each leads to'),
    timeout: Duration.optional(),
    onTimeout: StepId.optional(),
    show: Mapping.optional().describe('What the person must judge: a mapping evaluated when the wait is entered, shown by show and the inbox'),
  }),
});

type Wait = z.infer<typeof WaitStep>;

/** When the wait at `id` times out, or null when it has no timeout. */
export function waitTimeoutOf(id: string, step: Wait, context: Pick<RunContext, 'active'>): number | null {
  return step.wait.timeout === undefined ? null : stepRunOf(context, id).enteredAt + parseDuration(step.wait.timeout);
}

export const waitKind = defineStepKind<Wait>({
  name: 'wait',
  schema: WaitStep,
  routeHint: '; a wait step routes through wait.on and wait.onTimeout',
  entered: 'waiting',
  state: (id, step, scope) => {
    const on: Transitions = {};
    for (const [event, to] of Object.entries(step.wait.on)) {
      if (!isWaitEventType(event)) throw new StepwiseError('definition_invalid', `wait "${id}": "${event}" is not an event name in UPPER_CASE`);
      on[event] = [ignoreOthers(id), { target: target(to), reenter: true, actions: { type: 'recordEvent', params: { step: id } } }];
    }
    on['wait.shown'] = [ignoreOthers(id), { actions: { type: 'storeShown', params: { step: id } } }];
    on['wait.timeout'] = [
      ignoreOthers(id),
      step.wait.onTimeout
        ? { target: target(step.wait.onTimeout), reenter: true, actions: { type: 'recordTimeout', params: { step: id } } }
        : { target: target(FAILED_STATE), actions: { type: 'failRun', params: { kind: 'deadline', message: `the wait at "${id}" timed out`, step: id } } },
    ];
    return { entry: [{ type: 'enterStep', params: { step: id, status: 'waiting' } }], meta: { stepwise: { kind: 'wait' } }, always: visitLimit(id, step, scope), on };
  },
  edges: (_id, step) => {
    const out: KindEdge[] = Object.entries(step.wait.on).map(([event, to]) => ({ to, path: ['wait', 'on', event] }));
    if (step.wait.onTimeout !== undefined) out.push({ to: step.wait.onTimeout, path: ['wait', 'onTimeout'] });
    return out;
  },
  check: (_id, step) => {
    const errors: KindFinding[] = [];
    const warnings: KindFinding[] = [];
    if (step.wait.onTimeout !== undefined && step.wait.timeout === undefined) {
      errors.push({ path: ['wait', 'onTimeout'], message: 'onTimeout needs a timeout; add wait.timeout, e.g. 72h' });
    }
    if (step.wait.timeout !== undefined && step.wait.onTimeout === undefined) {
      warnings.push({ path: ['wait', 'timeout'], message: 'timeout without onTimeout: the run fails when the wait times out; name a step in wait.onTimeout to route it' });
    }
    return { errors, warnings };
  },
  expressions: (step) => (step.wait.show === undefined ? [] : [[step.wait.show, ['wait', 'show']]]),
  accepts: (step) => Object.keys(step.wait.on),
  wakeAt: (id, step, _phase, context) => waitTimeoutOf(id, step, context),
  label: (step) => `wait for ${Object.keys(step.wait.on).join(' | ')}`,
  pathEvents: (id, step) => {
    const events: RunEvent[] = [];
    for (const type of Object.keys(step.wait.on)) if (isWaitEventType(type)) events.push({ type, step: id, at: 0 });
    if (step.wait.timeout !== undefined) events.push({ type: 'wait.timeout', step: id, at: 0 });
    return events;
  },
  handler: {
    async advance(run, { id }, step) {
      // `show` is evaluated once, as the wait is entered, and kept with it; a failure is kept as its message and journaled.
      if (step.wait.show !== undefined && stepRunOf(run.context(), id).shown === undefined) {
        try {
          const data = await evaluateMapping(definitionMapping(step.wait.show), scopeOf({ runId: run.runId, context: run.context() }));
          run.send({ type: 'wait.shown', step: id, at: run.clock.now(), data: data ?? null });
        } catch (error) {
          run.send({ type: 'wait.shown', step: id, at: run.clock.now(), data: null, problem: (error as Error).message });
        }
        return { kind: 'moved' };
      }
      const now = run.clock.now();
      const timeoutAt = waitTimeoutOf(id, step, run.context());
      if (timeoutAt !== null && timeoutAt <= now) {
        run.note({ ...run.where(id), event: 'timeout' });
        run.send({ type: 'wait.timeout', step: id, at: now });
        return { kind: 'moved' };
      }
      // A run whose first step is a wait enters it without any event: nothing changed, but it is not yet `waiting` either.
      return {
        kind: 'rest',
        wakeAt: timeoutAt,
        force: run.status() !== 'waiting',
        crash: 'waiting',
        onCommit: () => {
          const shown = stepRunOf(run.context(), id).shown;
          const show = shown ? { show: shown.data, ...(shown.error !== undefined ? { showError: shown.error } : {}) } : {};
          run.note({ ...run.where(id), event: 'waiting', data: { events: Object.keys(step.wait.on), timeoutAt, wakeAt: run.wakeAt(), ...show } });
        },
      };
    },
  },
});
