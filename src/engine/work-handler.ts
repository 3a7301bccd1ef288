/**
 * The driver's handler of a work step (`claude`, `analyze`, `tool` and any
 * kind built on an executor): `ready` prepares the attempt and starts it
 * (committed, so a crash re-runs it with the same idempotency key), `running`
 * executes it as an effect that may run beside other steps' effects,
 * `retrying` waits out the backoff, `failed` and `budget_exhausted` rest, as
 * does a kind's own waiting phase (`reviewing`) until an event arrives.
 */
import { attemptsSinceResume, stepRunOf } from '../compile/context.js';
import type { StepFailedEvent } from '../compile/events.js';
import type { ActiveStep, Advance, StepHandler } from '../kinds/types.js';
import { traceStep } from '../observe/tracing.js';
import { backoffDelay, resolveRetry } from '../policy/backoff.js';
import type { RetryPolicy } from '../definition/fields.js';
import type { PreparedStep, StepEnv, StepExecutor, StepOutcome } from '../steps/types.js';
import { seededRandom } from '../util/random.js';
import { crashPoint } from './crash-points.js';
import { raceAttempt, type AttemptEnd } from './attempt.js';
import { LazyAbort } from './lazy-abort.js';
import { credentialsOf } from '../model/credentials.js';
import { engineFailure, guardOutcome, interrupted, MAX_INTERRUPTED_RERUNS, timedOut, unprepared } from './outcomes.js';
import type { RunScope } from './scope.js';
import { LeaseLostError } from '../store/types.js';
import { addUsage, promptTokens, zeroUsage, type Usage } from '../run/types.js';
import type { Reservation } from './budget-pool.js';
import { reserveCall } from './reserve-call.js';

const moved: Advance = { kind: 'moved' };
/** A step whose attempt would be prepared or executed, in a drive that fires only what is due: it stays where it is. */
const startsNothing: Advance = { kind: 'rest' };


/** The key of the current attempt of `step`: prepared attempts are kept under it. */
function attemptKey(run: RunScope, step: string): string {
  const context = run.context();
  return `${step}:${context.visits[step]}:${stepRunOf(context, step).attempt}`;
}

export function failedEvent(step: string, at: number, outcome: Extract<StepOutcome, { ok: false }>, retryAt: number | null): StepFailedEvent {
  return {
    type: 'step.failed',
    step,
    at,
    usage: outcome.usage,
    error: outcome.error,
    retryable: outcome.retryable,
    retryAt,
    ...estimated(outcome),
    ...(outcome.fingerprint ? { fingerprint: outcome.fingerprint } : {}),
    ...(outcome.accepted ? { accepted: outcome.accepted } : {}),
    ...(outcome.rejected ? { rejected: outcome.rejected } : {}),
  };
}

async function ready(run: RunScope, id: string, executor: StepExecutor): Promise<Advance> {
  let prepared: PreparedStep;
  const env = run.envFor(id);
  // A new run (the first step of a run just started) is stored before its prepare waits on the model server, so a
  // cancel can find it meanwhile. Set in place: envFor's object has a getter, which a copy would read.
  let storing: Promise<void> | undefined;
  (env as { beforeWaiting?: StepEnv['beforeWaiting'] }).beforeWaiting = () => (storing ??= run.ensureStored());
  try {
    prepared = await executor.prepare(env);
  } catch (error) {
    // Stopped from outside while preparing (a cancel, a sibling's failure or the drive's end aborted a count_tokens
    // request): nothing started; the driver sees why and cancels, stops or looks at the step again.
    if (env.aborted?.()) return moved;
    // The run could not be stored (another start made it, the store failed): the drive fails with that, not the step.
    if (storing) await storing;
    // The step's own data is broken (an expression failed) or its tool is missing: fail the attempt, no retry.
    run.send({ type: 'step.run', step: id, at: run.clock.now(), projectedTokens: 0, projectedUsd: 0 });
    const failure = unprepared(error);
    run.note({ ...run.where(id), event: 'failed', error: failure.error });
    run.send(failedEvent(id, run.clock.now(), failure, null));
    return moved;
  }
  // A model call reserves its projected cost from the run's budget pool (asking the model server for the exact count
  // when the estimate is not to be trusted); the guard sees what other steps hold, and a reservation the pool refused.
  let reserved: Reserved;
  try {
    reserved = await reserveFor(run, prepared);
  } catch (error) {
    // Stopped from outside while counting: nothing started, as above.
    if (env.aborted?.()) return moved;
    if (storing) await storing;
    throw error;
  }
  prepared = reserved.prepared;
  const { reservation } = reserved;
  const all = run.budget.outstanding();
  run.send({
    type: 'step.run',
    step: id,
    at: run.clock.now(),
    projectedTokens: prepared.projectedTokens,
    projectedUsd: prepared.projectedUsd,
    ...(prepared.request ? { reservedTokens: all.tokens - (reservation?.tokens ?? 0), reservedUsd: all.usd - (reservation?.usd ?? 0) } : {}),
    ...(reserved.refusal !== null ? { refused: reserved.refusal } : {}),
  });
  if (run.phaseOf(id) === 'running') {
    run.prepared.set(attemptKey(run, id), prepared);
    if (reservation) run.reservations.set(attemptKey(run, id), reservation);
    run.note({ ...run.where(id), event: 'started', data: { projectedTokens: prepared.projectedTokens, ...(prepared.feedback ? { feedback: prepared.feedback } : {}) } });
    if (run.mode === 'step' && run.executed() > 0) return { kind: 'stop' };
    await run.commit();
    crashPoint('step-started');
    return moved;
  }
  reservation?.release();
  return refusedStart(run, id);
}

/** A step whose attempt was refused on `step.run` (out of budget, or past its visit limit): journaled and committed. */
export async function refusedStart(run: RunScope, id: string): Promise<Advance> {
  const failure = run.context().failure;
  run.note({
    ...run.where(id),
    event: run.phaseOf(id) === 'budget_exhausted' ? 'budget_exhausted' : 'loop_detected',
    ...(failure ? { error: { kind: failure.kind, message: failure.message } } : {}),
  });
  await run.commit();
  return moved;
}

type Reserved = { readonly prepared: PreparedStep; readonly reservation: Reservation | null; readonly refusal: string | null };

/**
 * Reserves a prepared model call in the run's budget pool (./reserve-call.ts), its projection the one it was reserved
 * at; a step that calls no model reserves nothing. May throw when the step is stopped while an exact count is asked.
 */
async function reserveFor(run: RunScope, prepared: PreparedStep): Promise<Reserved> {
  if (!prepared.request) return { prepared, reservation: null, refusal: null };
  if (!prepared.estimate) {
    const reservation = run.budget.reserve(prepared.projectedTokens, prepared.projectedUsd);
    return { prepared, reservation, refusal: reservation ? null : (run.budget.refusal(prepared.projectedTokens, prepared.projectedUsd) ?? 'the token budget is spent') };
  }
  const call = await reserveCall(run.budget, run.context().calibration, prepared.estimate);
  const projected = { ...prepared, projectedTokens: call.projection.projectedTokens, projectedUsd: call.projection.projectedUsd };
  return { prepared: projected, reservation: call.reservation, refusal: call.reservation ? null : call.refusal };
}

function running<S>(run: RunScope, step: ActiveStep, spec: S, executor: StepExecutor, options: WorkHandlerOptions<S>): Advance {
  if (run.mode === 'step' && run.executed() > 0) return { kind: 'stop' };
  const id = step.id;
  return {
    kind: 'effect',
    run: async () => {
      const key = attemptKey(run, id);
      // The visit the attempt belongs to: the run may leave it while the attempt runs.
      const visit = run.context().visits[id];
      // The attempt's own signal, made only if the step reads it (or a model call waits on it).
      const controller = new LazyAbort();
      const stepSignal = run.stepSignal(id);
      // envFor hands out a fresh object whose signal is read from `controller` when the step reads it: completed in place, as copying one with a getter is slow.
      const env: StepEnv = run.envFor(id, controller);
      // Its continuations extend its reservation in the pool (and up to the top run's), at the ratio the family knows.
      (env as { budget?: StepEnv['budget'] }).budget = {
        calibration: () => run.budget.calibration(),
        extend: (needed) => {
          if (!reservation) return run.budget.refusal(needed.tokens, needed.usd);
          return reservation.extend(Math.max(0, needed.tokens - reservation.tokens), Math.max(0, needed.usd - reservation.usd));
        },
      };
      let prepared: PreparedStep | null = run.prepared.get(key) ?? null;
      run.prepared.delete(key);
      let reservation: Reservation | null = run.reservations.get(key) ?? null;
      run.reservations.delete(key);
      // What the attempt has been billed so far (each model reply, told as it comes): charged however the attempt ends.
      let spent: Usage = zeroUsage;
      (env as { spent?: StepEnv['spent'] }).spent = (usage, estimatedInput) => {
        spent = addUsage(spent, usage);
        // The ratio the server counted at is learned by every run sharing the budget, at once.
        run.budget.learn(promptTokens(usage), estimatedInput);
      };
      try {
        let prepareError: unknown = null;
        let gaveUp: StepOutcome | null = null;
        let stopped: AttemptEnd | null = null;
        if (!prepared) {
          // Restored mid-attempt: the step had started but not completed, so it runs again with the same key,
          // a bounded number of times: each re-run is committed before the call, so a call that is interrupted
          // every time (it always outlives the lease) fails the attempt instead of running forever.
          const here = run.where(id);
          const reruns = (await run.journal()).filter(
            (e) => e.event === 'started' && e.step === here.step && e.visit === here.visit && e.attempt === here.attempt && isRerun(e.data),
          ).length;
          if (reruns >= MAX_INTERRUPTED_RERUNS) {
            gaveUp = interrupted(id, reruns);
          } else {
            run.note({ ...here, event: 'started', data: { rerun: true } });
            await run.holdLease();
            await run.commit();
            // Prepared as in `ready`, with a signal a cancel aborts (the attempt's own is raced from below only).
            const preparing = run.envFor(id);
            try {
              prepared = await executor.prepare(preparing);
            } catch (error) {
              prepareError = error;
              if (preparing.aborted?.()) stopped = run.signal?.aborted ? { kind: 'aborted' } : { kind: 'cancelled' };
            }
          }
        }
        if (prepared?.request && !reservation && !gaveUp && !stopped) {
          // Restored mid-attempt: the reservation went with the process that made it; take it again or stop here.
          try {
            const reserved = await reserveFor(run, prepared);
            prepared = reserved.prepared;
            reservation = reserved.reservation;
            if (reserved.refusal !== null) gaveUp = budgetRefused(reserved.refusal);
          } catch (error) {
            if (!run.envFor(id).aborted?.()) throw error;
            stopped = run.signal?.aborted ? { kind: 'aborted' } : { kind: 'cancelled' };
          }
        }
        // The backoff grows with the attempts since the visit began or was last resumed, as the retry policy counts them.
        const attempt = attemptsSinceResume(stepRunOf(run.context(), id));
        await run.holdLease();
        let end: AttemptEnd;
        if (stopped) {
          end = stopped;
        } else if (gaveUp) {
          end = { kind: 'outcome', outcome: gaveUp };
        } else if (prepared) {
          const ready = prepared;
          crashPoint(ready.request ? 'mid-model' : 'mid-tool');
          end = await raceAttempt(
            async () => {
              if (ready.request && run.beforeModelCall) await run.beforeModelCall(ready.projectedTokens, controller.signal);
              return traceStep({ runId: run.runId, stepId: id, kind: step.kind, visit: env.visit, attempt: env.attempt }, () => executor.execute(env, ready));
            },
            {
              clock: run.clock,
              controller,
              timeoutMs: options.timeoutMs?.(spec) ?? null,
              cancel: [run.cancel(), stepSignal],
              ...(run.signal ? { abort: run.signal } : {}),
            },
          );
        } else {
          end = { kind: 'outcome', outcome: unprepared(prepareError) };
        }
        if (end.kind === 'aborted') {
          // The drive lost its lease: whoever holds it now continues the run; nothing is sent or committed here.
          if (run.signal?.reason instanceof LeaseLostError) throw run.signal.reason;
          // The drive was stopped under the step (the run is a child whose parent's step was aborted or cancelled):
          // what the attempt was billed is charged, and the driver commits it.
          chargeStopped(run, id, spent, reservation, `the attempt was aborted: ${reasonOf(run.signal?.reason)}`, false);
          return;
        }
        if (end.kind === 'cancelled') {
          const own = stepSignal.aborted && stepSignal.reason instanceof Error ? stepSignal.reason.message : null;
          chargeStopped(run, id, spent, reservation, own ? `the attempt was aborted: ${own}` : 'the attempt was interrupted by a cancel', true);
          return;
        }
        // Ended by its timeout or an engine error, the attempt's result is lost, not what it was billed.
        // What the attempt hands on is kept with the model server's credentials hidden (a gateway or model may echo them).
        const secrets = credentialsOf(run.model.client);
        const outcome: StepOutcome =
          end.kind === 'timeout'
            ? { ...timedOut(id, end.timeoutMs), usage: spent }
            : end.kind === 'error'
              ? { ...engineFailure(end.error, secrets), usage: spent }
              : guardOutcome(id, end.outcome, run.maxOutputBytes, secrets);
        crashPoint('after-tool');
        // The step may have outlived the lease (a blocked event loop stops the heartbeat): its result is not committed then.
        await run.holdLease();
        run.countExecuted();
        if (run.phaseOf(id) === undefined || run.context().visits[id] !== visit) {
          // The run left the step while its attempt ran (a sibling branch failed the run by a visit limit, which aborts
          // no step): the machine takes no result of it, so what the attempt was billed is charged as an aborted one's.
          const billed = outcome.usage.totalTokens > 0 || outcome.usage.usd > 0;
          if (billed) return chargeStopped(run, id, outcome.usage, reservation, 'the run had left the step when its attempt ended', false);
        }
        const at = run.clock.now();
        const where = run.where(id);
        if (outcome.ok && outcome.review) {
          // The tool waits for a person: the valid input the model proposed is kept in the snapshot.
          const { tool, schema } = outcome.review;
          const prompt = outcome.review.prompt !== undefined ? { prompt: outcome.review.prompt } : {};
          run.send({ type: 'step.proposed', step: id, at, tool, schema, input: outcome.input, usage: outcome.usage, ...prompt });
          reservation?.settle(outcome.usage);
          run.note({ ...where, at, event: 'waiting', input: outcome.input, usage: outcome.usage, latencyMs: outcome.latencyMs, data: { review: true, tool, schema, ...prompt, events: run.acceptsOf(id) } });
          return;
        }
        if (outcome.ok) {
          run.send({ type: 'step.done', step: id, at, output: outcome.output, usage: outcome.usage, ...estimated(outcome), ...(outcome.fingerprint ? { fingerprint: outcome.fingerprint } : {}) });
          reservation?.settle(outcome.usage);
          const looped = run.phaseOf(id) === 'failed';
          const failure = run.context().failure;
          run.note({
            ...where,
            at,
            event: looped ? 'loop_detected' : 'completed',
            input: outcome.input,
            output: outcome.output,
            usage: outcome.usage,
            latencyMs: outcome.latencyMs,
            ...estimatedData(outcome),
            ...(looped && failure ? { error: { kind: 'loop', message: failure.message } } : {}),
          });
          return;
        }
        const policy = resolveRetry(options.retry?.(spec), run.workflow.retry);
        const delay = backoffDelay(policy, attempt, seededRandom(`${run.runId}:${key}`));
        run.send(failedEvent(id, at, outcome, at + delay));
        reservation?.settle(outcome.usage);
        run.note({
          ...where,
          at,
          event: run.phaseOf(id) === 'budget_exhausted' ? 'budget_exhausted' : 'failed',
          ...(outcome.input !== undefined ? { input: outcome.input } : {}),
          usage: outcome.usage,
          latencyMs: outcome.latencyMs,
          ...estimatedData(outcome),
          error: { kind: outcome.error.kind, message: outcome.error.message },
        });
        if (run.phaseOf(id) === 'retrying') run.note({ ...where, at, event: 'retry_scheduled', data: { retryAt: at + delay, delayMs: delay } });
      } finally {
        reservation?.release(); // no-op once settled
      }
    },
  };
}

function retrying(run: RunScope, id: string): Advance {
  const now = run.clock.now();
  const due = stepRunOf(run.context(), id).retryAt ?? now;
  if (due > now) return { kind: 'rest', wakeAt: due, sleep: true, crash: 'backoff' };
  run.send({ type: 'step.retry', step: id, at: now });
  return moved;
}

/** What the work handler reads from a step of its kind. */
export interface WorkHandlerOptions<S> {
  /** The step's own retry policy (else the workflow's). */
  readonly retry?: (step: S) => RetryPolicy | undefined;
  /** The time one attempt may take, raced on the engine's clock; model steps bound each request instead. */
  readonly timeoutMs?: (step: S) => number | null;
}

/**
 * The handler of a kind whose steps an executor performs.
 *
 * @example
 * ```ts
 * handler: workHandler(toolStep, { retry: (step) => step.retry, timeoutMs: (step) => (step.timeout === undefined ? null : parseDuration(step.timeout)) }),
 * ```
 */
export function workHandler<S>(executor: StepExecutor, options: WorkHandlerOptions<S> = {}): StepHandler<S> {
  return {
    async advance(run, step, spec) {
      switch (step.phase) {
        case 'ready':
        case 'approved': // a reviewed input was approved: its attempt starts as any does
          return run.mode === 'due' ? startsNothing : ready(run, step.id, executor);
        case 'running':
          return run.mode === 'due' ? startsNothing : running(run, step, spec, executor, options);
        case 'retrying':
          return retrying(run, step.id);
        default:
          return { kind: 'rest' }; // failed or budget_exhausted: until resumed
      }
    },
  };
}

/**
 * An attempt ended from outside it (a cancel, a sibling branch's failure, its drive stopped under it), its step having
 * sent nothing: what it was billed before it ended (`spent`) is charged to the run (`run.charge`) and settles its
 * reservation, and its cancelled `failed` entry carries it (`usage`, and `data.charged`, which replay reads as the
 * charge it was). `always`: the entry is written when nothing was billed too.
 */
function chargeStopped(run: RunScope, id: string, spent: Usage, reservation: Reservation | null, message: string, always: boolean): void {
  const billed = spent.totalTokens > 0 || spent.usd > 0;
  if (billed) {
    run.send({ type: 'run.charge', at: run.clock.now(), usage: spent });
    reservation?.settle(spent);
  } else if (!always) {
    return;
  }
  run.note({ ...run.where(id), event: 'failed', error: { kind: 'cancelled', message }, ...(billed ? { usage: spent, data: { aborted: true, charged: spent } } : {}) });
}

function reasonOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason ?? 'stopped');
}

/** The outcome of an attempt whose model call cannot reserve its cost: the step ends `budget_exhausted`. */
function budgetRefused(reason: string | null): StepOutcome {
  return { ok: false, error: { kind: 'budget', message: reason ?? 'the token budget is spent' }, retryable: false, usage: zeroUsage, latencyMs: 0 };
}

/** A `started` entry written when an attempt interrupted mid-call runs again with its key. */
function isRerun(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { rerun?: unknown }).rerun === true;
}

/** The local estimate of an attempt's billed input, as its events carry it. */
function estimated(outcome: StepOutcome): { estimatedInput?: number } {
  return outcome.estimatedInput ? { estimatedInput: outcome.estimatedInput } : {};
}

/** The local estimate of an attempt's billed input, as its journal entry keeps it (`data.estimatedInput`; `usage` has the billed input). */
function estimatedData(outcome: StepOutcome): { data?: { estimatedInput: number } } {
  return outcome.estimatedInput ? { data: { estimatedInput: outcome.estimatedInput } } : {};
}
