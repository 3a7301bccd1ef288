/**
 * The named actions of a compiled machine. Each one is a pure `assign` over
 * {@link RunContext}; time comes from the event (`at`), never from a clock.
 */
import { assign, type Assigner, type ParameterizedObject } from 'xstate';
import { budgetAllows } from '../policy/budget.js';
import { addUsage } from '../run/types.js';
import type { FailureKind } from '../run/types.js';
import type { RunContext, StepResult, TrailEntry } from './context.js';
import type { RunEvent } from './events.js';

/** An `assign` over the run's context, typed with the machine's events and the action's params. */
function update<P extends ParameterizedObject['params'] | undefined = undefined>(assigner: Assigner<RunContext, RunEvent, P, RunEvent, never>) {
  return assign<RunContext, RunEvent, P, RunEvent, never>(assigner);
}

/** Replaces the last trail entry (the current visit). */
function updateLast(trail: readonly TrailEntry[], change: (entry: TrailEntry) => Partial<TrailEntry>): TrailEntry[] {
  const last = trail[trail.length - 1];
  if (!last) return [...trail];
  return [...trail.slice(0, -1), { ...last, ...change(last) }];
}

function setStep(context: RunContext, step: string, result: Omit<StepResult, 'visit' | 'attempts'>): Record<string, StepResult> {
  return {
    ...context.steps,
    [step]: { ...result, visit: context.visits[step] ?? 0, attempts: context.attempt },
  };
}

export const actions = {
  /** Counts a visit and opens its trail entry. */
  enterStep: update(({ context, event }, params: { step: string; status: 'running' | 'waiting' | 'done' }) => {
    const at = typeof event.at === 'number' ? event.at : context.enteredAt;
    const visit = (context.visits[params.step] ?? 0) + 1;
    const entry: TrailEntry = {
      id: params.step,
      visit,
      status: params.status,
      attempts: 0,
      tokens: 0,
      inputTokens: 0,
      outputTokens: 0,
      startedAt: at,
      endedAt: params.status === 'done' ? at : null,
    };
    return {
      visits: { ...context.visits, [params.step]: visit },
      attempt: 0,
      retryAt: null,
      lastError: null,
      enteredAt: at,
      trail: [...context.trail, entry],
    };
  }),

  /** Starts the next attempt of the current step. */
  startAttempt: update(({ context }) => ({
    attempt: context.attempt + 1,
    retryAt: null,
    trail: updateLast(context.trail, () => ({ attempts: context.attempt + 1, status: 'running' })),
  })),

  /** Charges the usage a step reported to the run and to its visit. */
  chargeUsage: update(({ context, event }) => {
    const usage = 'usage' in event ? event.usage : undefined;
    if (!usage) return {};
    return {
      usage: addUsage(context.usage, usage),
      trail: updateLast(context.trail, (e) => ({
        tokens: e.tokens + usage.totalTokens,
        inputTokens: e.inputTokens + usage.inputTokens,
        outputTokens: e.outputTokens + usage.outputTokens,
      })),
    };
  }),

  /** Keeps the fingerprint of the tool input a step produced, for loop detection. */
  rememberInput: update(({ context, event }, params: { step: string }) => {
    const fingerprint = 'fingerprint' in event ? event.fingerprint : undefined;
    if (!fingerprint) return {};
    return { fingerprints: { ...context.fingerprints, [params.step]: [...(context.fingerprints[params.step] ?? []), fingerprint] } };
  }),

  recordOutput: update(({ context, event }, params: { step: string }) => ({
    steps: setStep(context, params.step, { output: ('output' in event ? event.output : undefined) ?? null, status: 'done' }),
    trail: updateLast(context.trail, () => ({ status: 'done', endedAt: event.at })),
  })),

  scheduleRetry: update(({ context, event }) => ({
    retryAt: ('retryAt' in event ? event.retryAt : undefined) ?? event.at,
    lastError: 'error' in event ? event.error : null,
    trail: updateLast(context.trail, () => ({ status: 'running' })),
  })),

  /** A failed step whose `onError` route is taken: the run goes on. */
  routeError: update(({ context, event }, params: { step: string }) => {
    const error = 'error' in event ? event.error : undefined;
    return {
      steps: setStep(context, params.step, { output: null, status: 'failed', ...(error ? { error } : {}) }),
      trail: updateLast(context.trail, () => ({ status: 'failed', endedAt: event.at })),
    };
  }),

  /** The run stops at this step; `kind` overrides the reported failure kind. */
  failStep: update(({ context, event }, params: { step: string; kind?: FailureKind; message?: string }) => {
    const reported = 'error' in event ? event.error : undefined;
    const kind = params.kind ?? reported?.kind ?? 'tool_error';
    const message = params.message ?? reported?.message ?? kind;
    const exhausted = !params.kind && reported !== undefined && 'retryable' in event && event.retryable === true && context.attempt > 1;
    return {
      failure: {
        kind: exhausted ? 'retries_exhausted' : kind,
        step: params.step,
        message: exhausted ? `${message} (after ${context.attempt} attempts; last: ${reported.kind})` : message,
      },
      lastError: reported ?? context.lastError,
      steps: setStep(context, params.step, { output: null, status: 'failed', error: { kind, message } }),
      trail: updateLast(context.trail, () => ({ status: 'failed', endedAt: event.at })),
    };
  }),

  /** The run rests at this step: the guard refused its first model call (`step.run`), or the step reported a refused continuation. */
  exhaustBudget: update(({ context, event }, params: { step: string }) => {
    const reported = 'error' in event ? event.error : undefined;
    if (reported?.kind === 'budget') {
      return {
        failure: { kind: 'budget' as const, step: params.step, message: reported.message },
        trail: updateLast(context.trail, () => ({ status: 'failed', endedAt: event.at })),
      };
    }
    const decision = budgetAllows({
      used: context.usage,
      projectedTokens: 'projectedTokens' in event ? event.projectedTokens : 0,
      projectedUsd: 'projectedUsd' in event ? event.projectedUsd : 0,
      budget: context.budget,
    });
    return {
      failure: { kind: 'budget' as const, step: params.step, message: decision.reason ?? 'the token budget is spent' },
      trail: updateLast(context.trail, () => ({ status: 'failed', endedAt: event.at })),
    };
  }),

  /** The run fails at its current step (no branch matched, a wait or the deadline ran out): that visit ends as failed. */
  /** The run stops outside a step; an event may carry the precise reason (`message`). */
  failRun: update(({ context, event }, params: { kind: FailureKind; message: string }) => ({
    failure: {
      kind: params.kind,
      step: context.trail[context.trail.length - 1]?.id ?? null,
      message: 'message' in event && typeof event.message === 'string' ? event.message : params.message,
    },
    trail: updateLast(context.trail, (e) => ({ status: 'failed', endedAt: e.endedAt ?? event.at })),
  })),

  resumeRun: update(({ context, event }) => ({
    failure: null,
    attempt: 0,
    retryAt: null,
    budget: ('budget' in event ? event.budget : undefined) ?? context.budget,
    trail: updateLast(context.trail, () => ({ status: 'running', endedAt: null, attempts: 0 })),
  })),

  recordEvent: update(({ context, event }, params: { step: string }) => ({
    event: { type: event.type, data: ('data' in event ? event.data : undefined) ?? null },
    steps: setStep(context, params.step, { output: ('data' in event ? event.data : undefined) ?? null, status: 'done', event: event.type }),
    trail: updateLast(context.trail, () => ({ status: 'done', endedAt: event.at })),
  })),

  recordTimeout: update(({ context, event }, params: { step: string }) => ({
    event: { type: 'TIMEOUT', data: null },
    steps: setStep(context, params.step, { output: null, status: 'skipped', event: 'TIMEOUT' }),
    trail: updateLast(context.trail, () => ({ status: 'skipped', endedAt: event.at })),
  })),

  recordChoice: update(({ context, event }, params: { step: string }) => ({
    steps: setStep(context, params.step, { output: { branch: 'index' in event ? event.index : undefined }, status: 'done' }),
  })),

  /** Cancels the run; a visit still open (running or waiting) ends as skipped. */
  cancelRun: update(({ context, event }) => ({
    failure: { kind: 'cancelled' as const, step: context.trail[context.trail.length - 1]?.id ?? null, message: String(('reason' in event ? event.reason : undefined) ?? 'cancelled') },
    trail: updateLast(context.trail, (e) => (e.endedAt === null ? { status: 'skipped', endedAt: event.at } : {})),
  })),
};
