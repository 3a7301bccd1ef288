/**
 * The named actions of a compiled machine. Each one is a pure `assign` over
 * {@link RunContext}; time comes from the event (`at`), never from a clock.
 */
import { budgetAllows } from '../policy/budget.js';
import { calibrate } from '../policy/calibration.js';
import { addUsage, cacheFields, promptTokens, subUsage, zeroUsage, type Usage } from '../run/types.js';
import { roundUsd } from '../util/usd.js';
import type { FailureKind } from '../run/types.js';
import { attemptsSinceResume, stepRunOf, type RunContext, type StepResult, type StepRun, type TrailEntry } from './context.js';
import type { RunEvent, StepFailure } from './events.js';
import { branchOutput } from '../kinds/branch-output.js';
import { update } from './update.js';

/** Replaces the last trail entry of `step` (its current visit), or the last entry of all when `step` is not given. */
function updateLast(trail: readonly TrailEntry[], step: string | undefined, change: (entry: TrailEntry) => Partial<TrailEntry>): TrailEntry[] {
  let index = trail.length - 1;
  if (step !== undefined) while (index >= 0 && trail[index]!.id !== step) index--;
  const last = trail[index];
  if (!last) return [...trail];
  return [...trail.slice(0, index), { ...last, ...change(last) }, ...trail.slice(index + 1)];
}

/** Updates `step`'s current visit state. */
function setRun(context: RunContext, step: string, change: Partial<StepRun>): Record<string, StepRun> {
  return { ...context.active, [step]: { ...stepRunOf(context, step), ...change } };
}

function setStep(context: RunContext, step: string, result: Omit<StepResult, 'visit' | 'attempts'>): Record<string, StepResult> {
  return {
    ...context.steps,
    [step]: { ...result, visit: context.visits[step] ?? 0, attempts: stepRunOf(context, step).attempt },
  };
}

/** When the step before this one ended: the entry time of a step entered without an event carrying `at`. */
/** A step's failure without where a nested one began, which the run's failure keeps. */
function withoutOrigin(error: StepFailure): StepFailure {
  if (error.origin === undefined) return error;
  const { origin: _kept, ...rest } = error;
  return rest;
}

function lastTime(context: RunContext): number {
  const last = context.trail[context.trail.length - 1];
  return last ? (last.endedAt ?? last.startedAt) : context.startedAt;
}

type StepAssigner = (args: { context: RunContext; event: RunEvent }, params: { step: string }) => Partial<RunContext>;

/** Usage that changes no total: a tool step's, or a model step's that was never called. */
function chargesNothing(usage: Usage, estimatedInput: number | undefined): boolean {
  return usage.inputTokens === 0 && usage.outputTokens === 0 && usage.totalTokens === 0 && usage.usd === 0 && !usage.cacheCreationInputTokens && !usage.cacheReadInputTokens && !estimatedInput;
}

/** Charges the usage a step reported to the run and to its visit. */
const chargeUsage: StepAssigner = ({ context, event }, params) => {
  const usage = 'usage' in event ? event.usage : undefined;
  const estimatedInput = 'estimatedInput' in event ? event.estimatedInput : undefined;
  if (!usage || chargesNothing(usage, estimatedInput)) return {};
  const calibration = calibrate(context.calibration, promptTokens(usage), estimatedInput);
  return {
    usage: addUsage(context.usage, usage),
    ...(calibration ? { calibration } : {}),
    trail: updateLast(context.trail, params.step, (e) => ({
      tokens: e.tokens + usage.totalTokens,
      inputTokens: e.inputTokens + usage.inputTokens,
      outputTokens: e.outputTokens + usage.outputTokens,
      ...cacheFields((e.cacheCreationInputTokens ?? 0) + (usage.cacheCreationInputTokens ?? 0), (e.cacheReadInputTokens ?? 0) + (usage.cacheReadInputTokens ?? 0)),
    })),
  };
};

/** Keeps the fingerprint of the tool input a step produced, for loop detection. */
const rememberInput: StepAssigner = ({ context, event }, params) => {
  const fingerprint = 'fingerprint' in event ? event.fingerprint : undefined;
  if (!fingerprint) return {};
  return { fingerprints: { ...context.fingerprints, [params.step]: [...(context.fingerprints[params.step] ?? []), fingerprint] } };
};

const recordOutput: StepAssigner = ({ context, event }, params) => ({
  steps: setStep(context, params.step, { output: ('output' in event ? event.output : undefined) ?? null, status: 'done' }),
  trail: updateLast(context.trail, params.step, () => ({ status: 'done', endedAt: event.at })),
});

/** The assigners applied in order, each seeing the context the ones before made, as one update. */
function composed(...assigners: StepAssigner[]): StepAssigner {
  return (args, params) => {
    let context = args.context;
    let changes: Partial<RunContext> = {};
    for (const assigner of assigners) {
      const change = assigner({ ...args, context }, params);
      if (Object.keys(change).length === 0) continue;
      context = { ...context, ...change };
      changes = { ...changes, ...change };
    }
    return changes;
  };
}

export const actions = {
  /** Counts a visit and opens its trail entry. */
  enterStep: update(({ context, event }, params: { step: string; status: 'running' | 'waiting' | 'done' }) => {
    const at = typeof event.at === 'number' ? event.at : lastTime(context);
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
      active: { ...context.active, [params.step]: { attempt: 0, retryAt: null, enteredAt: at } },
      lastError: null,
      trail: [...context.trail, entry],
    };
  }),

  /** Starts the next attempt of the step. */
  startAttempt: update(({ context }, params: { step: string }) => {
    const attempt = stepRunOf(context, params.step).attempt + 1;
    return {
      active: setRun(context, params.step, { attempt, retryAt: null }),
      trail: updateLast(context.trail, params.step, () => ({ attempts: attempt, status: 'running' })),
    };
  }),

  /** Charges the usage a step reported to the run and to its visit. */
  chargeUsage: update(chargeUsage),

  /**
   * Charges the usage of a step's child runs: the event carries their total so
   * far, the run is charged what it adds to what was charged before.
   */
  chargeChildren: update(({ context, event }, params: { step: string }) => {
    const total = 'usage' in event ? event.usage : undefined;
    if (!total) return {};
    const before = stepRunOf(context, params.step).charged ?? zeroUsage;
    const usage = subUsage(total, before);
    return {
      usage: addUsage(context.usage, usage),
      active: setRun(context, params.step, { charged: total }),
      trail: updateLast(context.trail, params.step, (e) => ({
        tokens: e.tokens + usage.totalTokens,
        inputTokens: e.inputTokens + usage.inputTokens,
        outputTokens: e.outputTokens + usage.outputTokens,
        ...cacheFields((e.cacheCreationInputTokens ?? 0) + (usage.cacheCreationInputTokens ?? 0), (e.cacheReadInputTokens ?? 0) + (usage.cacheReadInputTokens ?? 0)),
      })),
    };
  }),

  /** Keeps the fingerprint of the tool input a step produced, for loop detection. */
  rememberInput: update(rememberInput),

  recordOutput: update(recordOutput),

  /**
   * A work step's attempt succeeded: `chargeUsage`, `rememberInput` and
   * `recordOutput` as one update, so the transition makes one new context
   * (and XState one snapshot) instead of three.
   */
  completeStep: update(composed(chargeUsage, rememberInput, recordOutput)),

  scheduleRetry: update(({ context, event }, params: { step: string }) => ({
    active: setRun(context, params.step, { retryAt: ('retryAt' in event ? event.retryAt : undefined) ?? event.at }),
    lastError:
      'error' in event
        ? {
            ...event.error,
            step: params.step,
            ...('accepted' in event && event.accepted ? { accepted: event.accepted } : {}),
            ...('rejected' in event && event.rejected ? { rejected: event.rejected } : {}),
          }
        : null,
    trail: updateLast(context.trail, params.step, () => ({ status: 'running' })),
  })),

  /** A failed step whose `onError` route is taken: the run goes on. */
  routeError: update(({ context, event }, params: { step: string }) => {
    // What `$steps.<id>.error` shows: the failure as the step reported it (where a nested one began is the run's to keep).
    const error = 'error' in event && event.error ? withoutOrigin(event.error) : undefined;
    return {
      steps: setStep(context, params.step, { output: null, status: 'failed', ...(error ? { error } : {}) }),
      trail: updateLast(context.trail, params.step, () => ({ status: 'failed', endedAt: event.at })),
    };
  }),

  /** The run stops at this step; `kind` overrides the reported failure kind. */
  failStep: update(({ context, event }, params: { step: string; kind?: FailureKind; message?: string }) => {
    const reported = 'error' in event ? event.error : undefined;
    const kind = params.kind ?? reported?.kind ?? 'tool_error';
    const message = params.message ?? reported?.message ?? kind;
    const run = stepRunOf(context, params.step);
    const attempts = attemptsSinceResume(run);
    const exhausted = !params.kind && reported !== undefined && 'retryable' in event && event.retryable === true && attempts > 1;
    const since = run.resumedAfter ? ' since the resume' : '';
    return {
      failure: {
        kind: exhausted ? 'retries_exhausted' : kind,
        step: params.step,
        message: exhausted ? `${message} (after ${attempts} attempts${since}; last: ${reported.kind})` : message,
        ...(reported?.origin && !params.message ? { origin: reported.origin } : {}),
      },
      lastError: reported ? { ...withoutOrigin(reported), step: params.step } : context.lastError,
      steps: setStep(context, params.step, { output: null, status: 'failed', error: { kind, message, ...(reported?.items ? { items: reported.items } : {}), ...(reported?.member ? { member: reported.member } : {}) } }),
      trail: updateLast(context.trail, params.step, () => ({ status: 'failed', endedAt: event.at })),
    };
  }),

  /** The run rests at this step: the guard refused its first model call (`step.run`), or the step reported a refused continuation. */
  exhaustBudget: update(({ context, event }, params: { step: string }) => {
    const reported = 'error' in event ? event.error : undefined;
    if (reported?.kind === 'budget') {
      return {
        failure: { kind: 'budget' as const, step: params.step, message: reported.message, ...(reported.origin ? { origin: reported.origin } : {}) },
        trail: updateLast(context.trail, params.step, () => ({ status: 'failed', endedAt: event.at })),
      };
    }
    const refused = 'refused' in event ? event.refused : undefined;
    const decision = refused !== undefined ? { reason: refused } : budgetAllows({
      used: context.usage,
      projectedTokens: ('projectedTokens' in event ? event.projectedTokens : 0) + ('reservedTokens' in event ? (event.reservedTokens ?? 0) : 0),
      projectedUsd: ('projectedUsd' in event ? event.projectedUsd : 0) + ('reservedUsd' in event ? (event.reservedUsd ?? 0) : 0),
      budget: context.budget,
    });
    return {
      failure: { kind: 'budget' as const, step: params.step, message: decision.reason ?? 'the token budget is spent' },
      trail: updateLast(context.trail, params.step, () => ({ status: 'failed', endedAt: event.at })),
    };
  }),

  /**
   * The run fails (no branch matched, a wait or the deadline ran out): the visit
   * of `step` (else the last one) ends as failed, and any other visit still open
   * ends then too. An event may carry the precise reason (`message`).
   */
  failRun: update(({ context, event }, params: { kind: FailureKind; message: string; step?: string }) => {
    const failed = updateLast(context.trail, params.step, (e) => ({ status: 'failed', endedAt: e.endedAt ?? event.at }));
    return {
      failure: {
        kind: params.kind,
        step: params.step ?? context.trail[context.trail.length - 1]?.id ?? null,
        message: 'message' in event && typeof event.message === 'string' ? event.message : params.message,
      },
      trail: failed.map((e) => (e.endedAt === null ? { ...e, status: 'failed' as const, endedAt: event.at } : e)),
    };
  }),

  /**
   * The run goes on at a stopped step (`resume`, `redrive`). Its attempt number is kept, so the next attempt of the
   * visit goes on past the ones it made (a new idempotency key each), and the retry policy counts from here.
   */
  resumeRun: update(({ context, event }, params: { step: string }) => ({
    failure: null,
    ...('carried' in event && event.carried?.step === params.step ? { usage: addUsage(context.usage, event.carried.usage) } : {}),
    active: setRun(context, params.step, {
      resumedAfter: stepRunOf(context, params.step).attempt,
      retryAt: null,
      ...('redrive' in event && event.redrive ? {} : { resumes: (stepRunOf(context, params.step).resumes ?? 0) + 1 }),
    }),
    budget: ('budget' in event ? event.budget : undefined) ?? context.budget,
    trail: updateLast(context.trail, params.step, () => ({ status: 'running', endedAt: null })),
  })),

  /** The step's child runs rest: keep when they must be looked at again (`retryAt`) and whether they wait. */
  restChild: update(({ context, event }, params: { step: string }) => ({
    active: setRun(context, params.step, { retryAt: ('wakeAt' in event ? event.wakeAt : null) ?? null }),
    trail: updateLast(context.trail, params.step, () => ({ status: 'waiting' in event && event.waiting ? 'waiting' : 'running' })),
  })),

  recordEvent: update(({ context, event }, params: { step: string }) => ({
    event: { type: event.type, data: ('data' in event ? event.data : undefined) ?? null },
    steps: setStep(context, params.step, { output: ('data' in event ? event.data : undefined) ?? null, status: 'done', event: event.type }),
    trail: updateLast(context.trail, params.step, () => ({ status: 'done', endedAt: event.at })),
  })),

  recordTimeout: update(({ context, event }, params: { step: string }) => ({
    event: { type: 'TIMEOUT', data: null },
    steps: setStep(context, params.step, { output: null, status: 'skipped', event: 'TIMEOUT' }),
    trail: updateLast(context.trail, params.step, () => ({ status: 'skipped', endedAt: event.at })),
  })),

  recordChoice: update(({ context, event }, params: { step: string }) => ({
    steps: setStep(context, params.step, { output: { branch: 'index' in event ? event.index : undefined }, status: 'done' }),
  })),

  /** A reviewed step's proposed tool input arrives: the step waits for a person (its visit shows `waiting`). */
  proposeInput: update(({ context, event }, params: { step: string }) => {
    if (!('tool' in event && 'schema' in event)) return {};
    const prompt = 'prompt' in event && typeof event.prompt === 'string' ? { prompt: event.prompt } : {};
    return {
      active: setRun(context, params.step, { review: { tool: event.tool, schema: event.schema, proposed: event.input, ...prompt, since: event.at } }),
      trail: updateLast(context.trail, params.step, () => ({ status: 'waiting' })),
    };
  }),

  /** APPROVE: the tool runs with `data.input` (an edit the engine validated) or else the proposal. */
  approveInput: update(({ context, event }, params: { step: string }) => {
    const review = stepRunOf(context, params.step).review;
    if (!review) return {};
    const data = 'data' in event ? event.data : undefined;
    const input = data !== null && typeof data === 'object' && 'input' in data ? data.input : review.proposed;
    return {
      active: setRun(context, params.step, { review: { ...review, approved: { input } } }),
      trail: updateLast(context.trail, params.step, () => ({ status: 'running' })),
    };
  }),

  /**
   * REJECT: the step fails as `rejected` (with the reason given, if any); the tool never runs.
   * With `failRun` (no `onReject` route) the run fails with it, as `failRun` ends a run.
   */
  rejectInput: update(({ context, event }, params: { step: string; failRun: boolean }) => {
    const data = 'data' in event ? event.data : undefined;
    const reason = data !== null && typeof data === 'object' && 'reason' in data && typeof data.reason === 'string' ? data.reason : null;
    const message = `the input proposed at "${params.step}" was rejected${reason ? `: ${reason}` : ''}`;
    const trail = updateLast(context.trail, params.step, () => ({ status: 'failed', endedAt: event.at }));
    return {
      steps: setStep(context, params.step, { output: null, status: 'failed', event: event.type, error: { kind: 'rejected', message } }),
      ...(params.failRun
        ? {
            failure: { kind: 'rejected' as const, step: params.step, message },
            trail: trail.map((e) => (e.endedAt === null ? { ...e, status: 'failed' as const, endedAt: event.at } : e)),
          }
        : { trail }),
    };
  }),

  /** A wait's `show` data, evaluated as it was entered. */
  storeShown: update(({ context, event }, params: { step: string }) => {
    if (event.type !== 'wait.shown' || !('data' in event)) return {};
    const problem = 'problem' in event ? event.problem : undefined;
    return { active: setRun(context, params.step, { shown: { data: event.data, ...(problem !== undefined ? { error: problem } : {}) } }) };
  }),

  /** Every visit of `steps` still open (aborted branch steps of a failed parallel step) ends as skipped. */
  closeVisits: update(({ context, event }, params: { steps: readonly string[] }) => {
    const ids = new Set(params.steps);
    const at = typeof event.at === 'number' ? event.at : lastTime(context);
    return { trail: context.trail.map((e) => (e.endedAt === null && ids.has(e.id) ? { ...e, status: 'skipped' as const, endedAt: at } : e)) };
  }),

  /** The failure of a step is settled elsewhere (a collected branch): the run goes on. */
  clearFailure: update(() => ({ failure: null })),

  /** Every branch of parallel step `step` has ended: its output is `{ <branch>: <output of the branch's last step> }`. */
  recordBranches: update(({ context }, params: { step: string; branches: Readonly<Record<string, readonly string[]>> }) => {
    const output: Record<string, unknown> = {};
    for (const [branch, ids] of Object.entries(params.branches)) output[branch] = branchOutput(context, ids);
    const members = new Set(Object.values(params.branches).flat());
    const at = context.trail.reduce((latest, e) => (members.has(e.id) ? Math.max(latest, e.endedAt ?? e.startedAt) : latest), lastTime(context));
    return {
      steps: setStep(context, params.step, { output, status: 'done' }),
      trail: updateLast(context.trail, params.step, () => ({ status: 'done', endedAt: at })),
    };
  }),

  /** Charges the run what the children of a step it left spent (`run.charge`). */
  chargeRun: update(({ context, event }) => ('usage' in event && event.type === 'run.charge' ? { usage: addUsage(context.usage, event.usage) } : {})),

  /** Cancels the run; every visit still open (running or waiting) ends as skipped. */
  cancelRun: update(({ context, event }) => ({
    failure: { kind: 'cancelled' as const, step: context.trail[context.trail.length - 1]?.id ?? null, message: String(('reason' in event ? event.reason : undefined) ?? 'cancelled') },
    trail: context.trail.map((e) => (e.endedAt === null ? { ...e, status: 'skipped' as const, endedAt: event.at } : e)),
  })),
};
