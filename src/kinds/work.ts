/**
 * What the work kinds (`claude`, `analyze`, `tool`) share: a compound state
 * `ready` → (`step.run`, guarded by `withinBudget`) → `running` → (`step.done`
 * → next step | `step.failed` → `retrying` / `onError` / `failed`), with
 * `budget_exhausted` and `failed` accepting `run.resume`; routes by `next` or
 * the order steps are listed; `onError`. A kind may add transitions out of
 * `running` and phases of its own (`review` does).
 */
import { FAILED_STATE } from '../compile/context.js';
import type { RunEvent } from '../compile/events.js';
import { target, type StateConfig, type Transitions } from '../compile/setup.js';
import type { RetryPolicy } from '../definition/fields.js';
import { resolveRetry } from '../policy/backoff.js';
import { resolveLimits } from '../policy/limits.js';
import { zeroUsage } from '../run/types.js';
import type { CompileScope, KindEdge } from './types.js';

/** The fields of a work step the shared parts read. */
export interface WorkFields {
  readonly next?: string | undefined;
  readonly onError?: string | undefined;
  readonly retry?: RetryPolicy | undefined;
  readonly maxVisits?: number | undefined;
}

/** One transition taken on `step.failed`. */
type FailedTransition = Extract<NonNullable<Transitions['step.failed']>, readonly unknown[]>[number];

/** The first transition of every step-scoped event: an event naming another step is taken here and does nothing. */
export const ignoreOthers = (step: string) => ({ guard: { type: 'otherStep', params: { step } } }) as const;

/** The compiled state of a work step `id` of kind `kind`. */
export function workState(
  id: string,
  step: WorkFields,
  scope: CompileScope,
  kind: string,
  extra: { readonly running?: Transitions; readonly states?: Record<string, StateConfig> } = {},
): StateConfig {
  const workflow = scope.workflow;
  const limits = resolveLimits(workflow.limits);
  const retry = resolveRetry(step.retry, workflow.retry);
  const next = scope.next ?? null;
  const maxVisits = step.maxVisits ?? limits.maxVisits;
  const params = { step: id };
  const resume = { target: 'ready', actions: { type: 'resumeRun', params } } as const;
  const charge = { type: 'chargeUsage', params } as const;
  const onFailed: FailedTransition[] = [
    ignoreOthers(id),
    // A model call inside the attempt (a continuation) would cross the budget: the run rests, resumable, as before a first call.
    { guard: 'budgetRefused', target: 'budget_exhausted', actions: [charge, { type: 'exhaustBudget', params }] },
    // An open circuit breaker is never retried: onError at once, else the run stops (resumable).
    step.onError
      ? { guard: 'breakerOpen', target: target(step.onError), actions: [charge, { type: 'routeError', params }] }
      : { guard: 'breakerOpen', target: 'failed', actions: [charge, { type: 'failStep', params }] },
    { guard: { type: 'canRetry', params: { maxAttempts: retry.maxAttempts } }, target: 'retrying', actions: [charge, { type: 'scheduleRetry', params }] },
  ];
  if (step.onError) onFailed.push({ target: target(step.onError), actions: [charge, { type: 'routeError', params }] });
  onFailed.push({ target: 'failed', actions: [charge, { type: 'failStep', params }] });

  return {
    initial: 'ready',
    entry: [{ type: 'enterStep', params: { step: id, status: 'running' } }],
    meta: { stepwise: { kind } },
    states: {
      ready: readyState(id, maxVisits),
      running: {
        on: {
          'step.done': [
            ignoreOthers(id),
            {
              guard: { type: 'repeatedInput', params: { step: id, maxRepeats: limits.repeatedInputs } },
              target: 'failed',
              actions: [
                charge,
                { type: 'rememberInput', params },
                {
                  type: 'failStep',
                  params: { step: id, kind: 'loop', message: `step "${id}" produced the same tool input more than ${limits.repeatedInputs} times` },
                },
              ],
            },
            {
              target: next ? target(next) : target(FAILED_STATE),
              actions: { type: 'completeStep', params },
            },
          ],
          'step.failed': onFailed,
          ...extra.running,
        },
      },
      retrying: { on: { 'step.retry': [ignoreOthers(id), { target: 'ready' }] } },
      budget_exhausted: { on: { 'run.resume': resume } },
      failed: { on: { 'run.resume': resume } },
      ...extra.states,
    },
  };
}

/**
 * The visit limit of a step that is not a work step (`choice`, `wait`):
 * entered once more than its `maxVisits` (default `limits.maxVisits`), the run
 * fails as a loop at once, as a work step does before its next attempt.
 */
export function visitLimit(id: string, step: { readonly maxVisits?: number | undefined }, scope: CompileScope): NonNullable<StateConfig['always']> {
  const maxVisits = resolveLimits(scope.workflow.limits, step.maxVisits).maxVisits;
  return {
    guard: { type: 'visitLimitReached', params: { step: id, maxVisits } },
    target: target(FAILED_STATE),
    actions: { type: 'failRun', params: { kind: 'loop', message: `step "${id}" was visited more than ${maxVisits} times`, step: id } },
  };
}

/** A work step's routes: `next` (or the implicit one) and `onError`. */
export function workEdges(step: WorkFields, next: string | undefined): KindEdge[] {
  const out: KindEdge[] = [];
  if (step.next !== undefined) out.push({ to: step.next, path: ['next'] });
  else if (next !== undefined) out.push({ to: next, path: [], implicit: true });
  if (step.onError !== undefined) out.push({ to: step.onError, path: ['onError'] });
  return out;
}

/** A path test's events for a work step: start it; then succeed, or fail (its error route). */
export function workPathEvents(id: string, phase: string | null): RunEvent[] {
  if (phase === 'ready') return [{ type: 'step.run', step: id, at: 0, projectedTokens: 0, projectedUsd: 0 }];
  if (phase === 'running') {
    return [
      { type: 'step.done', step: id, at: 0, output: null, usage: zeroUsage },
      { type: 'step.failed', step: id, at: 0, usage: zeroUsage, error: { kind: 'tool_error', message: 'forced' }, retryable: false, retryAt: null },
    ];
  }
  return [];
}

/** When a work step in `phase` must be looked at again: its retry's due time. */
export function workWakeAt(phase: string | null, retryAt: number | null): number | null {
  return phase === 'retrying' ? retryAt : null;
}

/**
 * The `ready` phase of a step that starts attempts: `step.run` fails it as a
 * loop past its visit limit, starts the attempt within budget, or stops it
 * out of budget.
 */
export function readyState(id: string, maxVisits: number): StateConfig {
  const params = { step: id };
  return {
    on: {
      'step.run': [
        ignoreOthers(id),
        {
          guard: { type: 'visitLimitReached', params: { step: id, maxVisits } },
          target: 'failed',
          actions: { type: 'failStep', params: { step: id, kind: 'loop', message: `step "${id}" was visited more than ${maxVisits} times` } },
        },
        { guard: 'withinBudget', target: 'running', actions: { type: 'startAttempt', params } },
        { target: 'budget_exhausted', actions: { type: 'exhaustBudget', params } },
      ],
    },
  };
}
