/**
 * The named guards of a compiled machine: the budget, retry, loop and branch
 * decisions. Pure functions of the context and the event.
 */
import type { ParameterizedObject } from 'xstate';
import { budgetAllows } from '../policy/budget.js';
import { attemptsSinceResume, stepRunOf, type RunContext } from './context.js';
import type { RunEvent } from './events.js';

type Args = { context: RunContext; event: RunEvent };

/** A guard over the run's context and events; `P` are its params, none unless declared. */
function guard<P extends ParameterizedObject['params'] | undefined = undefined>(predicate: (args: Args, params: P) => boolean) {
  return predicate;
}

/** The step an event concerns: the one it names, else the step entered last (a run with one active step). */
export function stepOfEvent(context: RunContext, event: RunEvent): string {
  return ('step' in event && typeof event.step === 'string' ? event.step : undefined) ?? context.trail[context.trail.length - 1]?.id ?? '';
}

export const guards = {
  /** The event names another step: the state ignores it (its first, targetless transition). */
  otherStep: guard(({ event }, params: { step: string }) => 'step' in event && typeof event.step === 'string' && event.step !== params.step),

  /** The next model call fits under `stopAt` of the token (and dollar) budget, with what other steps have reserved, and the budget pool did not refuse it. */
  withinBudget: guard(({ context, event }) =>
    !('refused' in event && event.refused !== undefined) &&
    budgetAllows({
      used: context.usage,
      projectedTokens: ('projectedTokens' in event ? event.projectedTokens : 0) + ('reservedTokens' in event ? (event.reservedTokens ?? 0) : 0),
      projectedUsd: ('projectedUsd' in event ? event.projectedUsd : 0) + ('reservedUsd' in event ? (event.reservedUsd ?? 0) : 0),
      budget: context.budget,
    }).allowed,
  ),

  /** The event names this step (for states nested in one another, where a targetless ignore would swallow events meant for an ancestor). */
  forStep: guard(({ event }, params: { step: string }) => 'step' in event && event.step === params.step),

  /** A `parallel.collect` for branch `branch` of parallel step `step`. */
  branchNamed: guard(({ event }, params: { step: string; branch: string }) =>
    event.type === 'parallel.collect' && 'branch' in event && event.step === params.step && event.branch === params.branch,
  ),

  /** The step was entered more often than it may be in one run. */
  visitLimitReached: guard(({ context }, params: { step: string; maxVisits: number }) =>
    (context.visits[params.step] ?? 0) > params.maxVisits,
  ),

  /** The step produced the same (normalised) tool input more often than allowed. */
  repeatedInput: guard(({ context, event }, params: { step: string; maxRepeats: number }) => {
    const fingerprint = 'fingerprint' in event ? event.fingerprint : undefined;
    if (typeof fingerprint !== 'string') return false;
    const seen = (context.fingerprints[params.step] ?? []).filter((f) => f === fingerprint).length;
    return seen + 1 > params.maxRepeats;
  }),

  /** The step stopped because its next model call (a `pause_turn` continuation) would cross the budget. */
  budgetRefused: guard(({ event }) => 'error' in event && event.error.kind === 'budget'),

  /** The step's tool was not called because its circuit breaker is open. */
  breakerOpen: guard(({ event }) => 'error' in event && event.error.kind === 'breaker_open'),

  /** The failure may be retried and attempts remain (counted since the step's visit began or was last resumed). */
  canRetry: guard(({ context, event }, params: { maxAttempts: number }) =>
    'retryable' in event && event.retryable === true && attemptsSinceResume(stepRunOf(context, stepOfEvent(context, event))) < params.maxAttempts,
  ),

  /** The step's child runs rest waiting for an event from outside. */
  childWaiting: guard(({ event }) => 'waiting' in event && event.waiting === true),

  /** The engine evaluated this branch of a choice as the first true one. */
  branch: guard(({ event }, params: { index: number; when: string }) => 'index' in event && event.index === params.index),
};
