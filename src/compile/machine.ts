/**
 * `compile()`: a validated definition → a plain XState v5 machine made with
 * `setup()`, its guards and actions named as in the definition. Pure: no I/O.
 *
 * Every work step (`claude`, `analyze`, `tool`) becomes a compound state:
 * `ready` → (`step.run`, guarded by `withinBudget`) → `running` →
 * (`step.done` → next step | `step.failed` → `retrying` / `onError` / `failed`).
 * `budget_exhausted` and `failed` accept `run.resume`. A `final` step ends the
 * run through `final.done` (→ `$done`) once its output is evaluated, or
 * `final.failed` (→ `$failed`) when that fails. The engine performs the
 * effects (model and tool calls, expression evaluation) and sends the results
 * as events, so the machine decides and the application drives.
 */
import { setup } from 'xstate';
import { stepKind, type Step, type Workflow } from '../definition/schema.js';
import { StepwiseError } from '../errors.js';
import { resolveLimits } from '../policy/limits.js';
import { resolveRetry } from '../policy/backoff.js';
import { zeroUsage } from '../run/types.js';
import { actions } from './actions.js';
import { CANCELLED_STATE, DONE_STATE, FAILED_STATE, type MachineInput, type RunContext } from './context.js';
import { isWaitEventType, type RunEvent } from './events.js';
import { guards } from './guards.js';
import { nextStep, startStep } from '../definition/graph.js';

/** A compiled workflow: its context is {@link RunContext}, its events {@link RunEvent}. */
export type WorkflowMachine = ReturnType<typeof compile>;

const ROOT = 'wf';
const target = (id: string) => `#${ROOT}.${id}`;

/** The machine's types, guards and actions; every state built from a definition is checked against them. */
const machineSetup = setup({
  types: {} as { context: RunContext; events: RunEvent; input: MachineInput },
  guards,
  actions,
});

/** A state node of a workflow machine, typed with its context, events, guards and actions. */
type StateConfig = Parameters<typeof machineSetup.createStateConfig>[0];
type Transitions = NonNullable<StateConfig['on']>;
/** One transition taken on `step.failed`. */
type FailedTransition = Extract<NonNullable<Transitions['step.failed']>, readonly unknown[]>[number];

function workState(workflow: Workflow, id: string, step: Step & { onError?: string; retry?: unknown; maxVisits?: number }): StateConfig {
  const limits = resolveLimits(workflow.limits);
  const retry = resolveRetry(step.retry as Workflow['retry'], workflow.retry);
  const next = nextStep(workflow, id) ?? null;
  const maxVisits = step.maxVisits ?? limits.maxVisits;
  const resume = { target: 'ready', actions: 'resumeRun' } as const;
  const onFailed: FailedTransition[] = [
    // A model call inside the attempt (a continuation) would cross the budget: the run rests, resumable, as before a first call.
    { guard: 'budgetRefused', target: 'budget_exhausted', actions: ['chargeUsage', { type: 'exhaustBudget', params: { step: id } }] },
    // An open circuit breaker is never retried: onError at once, else the run stops (resumable).
    step.onError
      ? { guard: 'breakerOpen', target: target(step.onError), actions: ['chargeUsage', { type: 'routeError', params: { step: id } }] }
      : { guard: 'breakerOpen', target: 'failed', actions: ['chargeUsage', { type: 'failStep', params: { step: id } }] },
    { guard: { type: 'canRetry', params: { maxAttempts: retry.maxAttempts } }, target: 'retrying', actions: ['chargeUsage', 'scheduleRetry'] },
  ];
  if (step.onError) {
    onFailed.push({ target: target(step.onError), actions: ['chargeUsage', { type: 'routeError', params: { step: id } }] });
  }
  onFailed.push({ target: 'failed', actions: ['chargeUsage', { type: 'failStep', params: { step: id } }] });

  return {
    initial: 'ready',
    entry: [{ type: 'enterStep', params: { step: id, status: 'running' } }],
    meta: { stepwise: { kind: stepKind(step) } },
    states: {
      ready: {
        on: {
          'step.run': [
            {
              guard: { type: 'visitLimitReached', params: { step: id, maxVisits } },
              target: 'failed',
              actions: { type: 'failStep', params: { step: id, kind: 'loop', message: `step "${id}" was visited more than ${maxVisits} times` } },
            },
            { guard: 'withinBudget', target: 'running', actions: 'startAttempt' },
            { target: 'budget_exhausted', actions: { type: 'exhaustBudget', params: { step: id } } },
          ],
        },
      },
      running: {
        on: {
          'step.done': [
            {
              guard: { type: 'repeatedInput', params: { step: id, maxRepeats: limits.repeatedInputs } },
              target: 'failed',
              actions: [
                'chargeUsage',
                { type: 'rememberInput', params: { step: id } },
                {
                  type: 'failStep',
                  params: { step: id, kind: 'loop', message: `step "${id}" produced the same tool input more than ${limits.repeatedInputs} times` },
                },
              ],
            },
            {
              target: next ? target(next) : target(FAILED_STATE),
              actions: ['chargeUsage', { type: 'rememberInput', params: { step: id } }, { type: 'recordOutput', params: { step: id } }],
            },
          ],
          'step.failed': onFailed,
        },
      },
      retrying: { on: { 'step.retry': 'ready' } },
      budget_exhausted: { on: { 'run.resume': resume } },
      failed: { on: { 'run.resume': resume } },
    },
  };
}

/**
 * The visit limit of a `choice` or `wait` step: entered once more than its
 * `maxVisits` (default `limits.maxVisits`), the run fails as a loop at once,
 * as a work step does before its next attempt.
 */
function visitLimit(workflow: Workflow, id: string, step: { maxVisits?: number }): NonNullable<StateConfig['always']> {
  const maxVisits = resolveLimits(workflow.limits, step.maxVisits).maxVisits;
  return {
    guard: { type: 'visitLimitReached', params: { step: id, maxVisits } },
    target: target(FAILED_STATE),
    actions: { type: 'failRun', params: { kind: 'loop', message: `step "${id}" was visited more than ${maxVisits} times` } },
  };
}

function stateFor(workflow: Workflow, id: string, step: Step): StateConfig {
  const kind = stepKind(step);
  switch (kind) {
    case 'claude':
    case 'analyze':
    case 'tool':
      return workState(workflow, id, step as Parameters<typeof workState>[2]);
    case 'choice': {
      const branches = (step as { choice: Array<{ when?: string; next: string }> }).choice;
      return {
        entry: [{ type: 'enterStep', params: { step: id, status: 'done' } }],
        meta: { stepwise: { kind } },
        always: visitLimit(workflow, id, step as { maxVisits?: number }),
        on: {
          'choice.take': branches.map((b, index) => ({
            guard: { type: 'branch', params: { index, when: b.when ?? 'otherwise' } },
            target: target(b.next),
            reenter: true,
            actions: { type: 'recordChoice', params: { step: id } },
          })),
          'choice.none': {
            target: target(FAILED_STATE),
            actions: { type: 'failRun', params: { kind: 'invalid_data', message: `no branch of choice "${id}" matched` } },
          },
        },
      };
    }
    case 'wait': {
      const wait = (step as { wait: { on: Record<string, string>; onTimeout?: string } }).wait;
      const on: Transitions = {};
      for (const [event, to] of Object.entries(wait.on)) {
        if (!isWaitEventType(event)) throw new StepwiseError('definition_invalid', `wait "${id}": "${event}" is not an event name in UPPER_CASE`);
        on[event] = { target: target(to), reenter: true, actions: { type: 'recordEvent', params: { step: id } } };
      }
      on['wait.timeout'] = wait.onTimeout
        ? { target: target(wait.onTimeout), reenter: true, actions: { type: 'recordTimeout', params: { step: id } } }
        : { target: target(FAILED_STATE), actions: { type: 'failRun', params: { kind: 'deadline', message: `the wait at "${id}" timed out` } } };
      return {
        entry: [{ type: 'enterStep', params: { step: id, status: 'waiting' } }],
        meta: { stepwise: { kind } },
        always: visitLimit(workflow, id, step as { maxVisits?: number }),
        on,
      };
    }
    case 'final':
      // The engine evaluates the step's `output`, then ends the run `done`, or `failed` when the expression fails.
      return {
        entry: [{ type: 'enterStep', params: { step: id, status: 'done' } }],
        meta: { stepwise: { kind } },
        on: {
          'final.done': { target: target(DONE_STATE) },
          'final.failed': {
            target: target(FAILED_STATE),
            actions: { type: 'failRun', params: { kind: 'invalid_data', message: `the output of final step "${id}" failed` } },
          },
        },
      };
  }
}

/**
 * Compiles a workflow definition into an XState machine.
 *
 * @example
 * ```ts
 * const machine = compile(definition.workflow);
 * const actor = createActor(machine, { input: { input: {...}, budget, at: Date.now() } }).start();
 * ```
 */
export function compile(workflow: Workflow) {
  const states: Record<string, StateConfig> = {};
  for (const [id, step] of Object.entries(workflow.steps)) states[id] = stateFor(workflow, id, step);
  states[FAILED_STATE] = { meta: { stepwise: { kind: 'failed' } } };
  states[DONE_STATE] = { type: 'final', meta: { stepwise: { kind: 'done' } } };
  states[CANCELLED_STATE] = { type: 'final', meta: { stepwise: { kind: 'cancelled' } } };

  return machineSetup.createMachine({
    id: ROOT,
    initial: startStep(workflow),
    context: ({ input }) => ({
      input: input.input,
      steps: {},
      trail: [],
      visits: {},
      attempt: 0,
      retryAt: null,
      enteredAt: input.at,
      startedAt: input.at,
      usage: zeroUsage,
      budget: input.budget,
      failure: null,
      lastError: null,
      fingerprints: {},
      event: null,
    }),
    on: {
      'run.cancel': { target: `.${CANCELLED_STATE}`, actions: 'cancelRun' },
      'run.deadline': {
        target: `.${FAILED_STATE}`,
        actions: { type: 'failRun', params: { kind: 'deadline', message: 'the workflow deadline passed' } },
      },
    },
    states,
  });
}
