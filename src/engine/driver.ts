/**
 * Drives one run: restores its actor from the stored snapshot, performs the
 * effect its state asks for (prepare a step, execute it, wait for a backoff,
 * evaluate a choice or the final output), sends the result to the machine, and
 * commits the snapshot with its journal entries in one transaction at every
 * point a crash must not lose: when a step attempt starts and whenever the run
 * comes to rest. A completed step is committed together with the start of the
 * next one, so each step costs one transaction. Choice steps and waits that
 * time out at once need no transaction of their own, but a long run of them
 * still commits at least every {@link COMMIT_EVERY} transitions, so progress
 * and its journal are written in bounded batches.
 */
import { createActor, type Actor, type InspectionEvent, type Observer } from 'xstate';
import type { RunContext } from '../compile/context.js';
import type { RunEvent, StepFailedEvent } from '../compile/events.js';
import { compileMapping, evaluateCondition, evaluateMapping } from '../expr/index.js';
import type { FinalStep, ChoiceStep, Workflow } from '../definition/schema.js';
import type { ModelConfig } from '../model/client.js';
import { backoffDelay, resolveRetry } from '../policy/backoff.js';
import { finishedStatuses, type NewJournalEntry, type RunRecord } from '../run/types.js';
import { executors, type PreparedStep, type StepEnv, type StepOutcome } from '../steps/index.js';
import { scopeOf } from '../steps/types.js';
import { LeaseLostError, type Store } from '../store/types.js';
import { seededRandom } from '../util/random.js';
import type { Clock } from './clock.js';
import { deadlineAt, positionOf, statusOf, waitTimeoutAt, type Position } from './position.js';
import type { Runtime } from './runtime.js';
import { crashPoint } from './crash-points.js';
import { traceRun, traceStep } from '../observe/tracing.js';
import type { Breakers } from './breakers.js';
import { raceAttempt, type AttemptEnd } from './attempt.js';
import type { CancelRequests, CancelWatch } from './cancel-requests.js';
import { engineFailure, guardOutcome, interrupted, MAX_INTERRUPTED_RERUNS, timedOut, unprepared } from './outcomes.js';
import { isResumable } from './view.js';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../run/storable.js';
import { parseDuration } from '../util/duration.js';
import type { LeaseHandle } from './lease.js';

export interface DriveOptions {
  /** `rest`: until the run waits, finishes or fails; `step`: execute at most one step. */
  readonly mode: 'rest' | 'step';
  /** Sleep through retry backoffs (true) or return with the run's `wakeAt` set (false). */
  readonly sleepTimers: boolean;
  readonly signal?: AbortSignal;
  /** Graceful stop (a draining worker): commit what is done at the next step boundary and return. */
  readonly stop?: AbortSignal;
  /**
   * The lease the caller holds on the run: checked right before and right after
   * every step execution (tool or model call), and named in every commit, so a
   * driver whose run was taken over meanwhile stops with {@link LeaseLostError}
   * and commits nothing.
   */
  readonly lease?: Pick<LeaseHandle, 'owner' | 'check'>;
  /** An event to deliver first, with the journal entries that describe it. */
  readonly event?: { readonly event: RunEvent; readonly journal: readonly NewJournalEntry[] };
}

export interface DriverDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly model: ModelConfig;
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Called after every commit with the run as stored and the journal entries that commit appended. */
  readonly onCommit: (record: RunRecord, journal: readonly NewJournalEntry[]) => void;
  /** Awaited before each model call with its projected tokens (the shared rate limit). */
  readonly beforeModelCall?: (projectedTokens: number, signal?: AbortSignal) => Promise<void>;
  /** The engine's circuit breakers, shared by its runs through the store. */
  readonly breakers?: Breakers;
  /**
   * Path tests only (`stepwise test`): the branch a choice takes, whatever its
   * conditions say. The conditions are still evaluated (an error still fails
   * the choice); a number returned here replaces the branch they picked.
   */
  readonly chooseBranch?: (step: string) => number | undefined;
  /** Cancel requests of the runs on the store: a drive that sees one for its run cancels it. */
  readonly cancels?: CancelRequests;
  /** The largest step output (or model reply) that may reach the machine and the store, as JSON bytes. */
  readonly maxOutputBytes?: number;
}

const MAX_TRANSITIONS = 100_000;

/** Transitions a run may make without a commit: choices and timed-out waits are committed in batches of at most this many. */
export const COMMIT_EVERY = 64;

/** When the run must be looked at again by itself: a backoff, a wait timeout, the deadline. */
export function wakeAtOf(workflow: Workflow, position: Position, context: RunContext): number | null {
  let wake: number | null = null;
  if (position.kind === 'work' && position.phase === 'retrying') wake = context.retryAt;
  if (position.kind === 'wait') wake = waitTimeoutAt(workflow, position.step, context);
  const active = position.kind === 'work' ? !['failed', 'budget_exhausted'].includes(position.phase) : position.kind === 'wait';
  const deadline = deadlineAt(workflow, context);
  if (deadline !== null && active) wake = wake === null ? deadline : Math.min(wake, deadline);
  return wake;
}

export function drive(deps: DriverDeps, runtime: Runtime, record: RunRecord, options: DriveOptions): Promise<RunRecord> {
  return traceRun(record, () => driveRun(deps, runtime, record, options));
}

async function driveRun(deps: DriverDeps, runtime: Runtime, record: RunRecord, options: DriveOptions): Promise<RunRecord> {
  const { store, clock } = deps;
  const workflow = runtime.definition.workflow;
  const actor: Actor<typeof runtime.machine> = createActor(runtime.machine, {
    snapshot: record.snapshot as never,
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
  });
  actor.start();
  let current = record;
  let journal: NewJournalEntry[] = [];
  let dirty = false;
  /** Transitions since the last commit. */
  let uncommitted = 0;
  let executed = 0;
  let prepared: { key: string; value: PreparedStep } | null = null;

  const context = () => actor.getSnapshot().context;
  const position = () => positionOf(workflow, actor.getSnapshot());
  const send = (event: RunEvent) => {
    actor.send(event);
    dirty = true;
  };
  const note = (entry: Omit<NewJournalEntry, 'at'> & { at?: number }) => journal.push({ at: clock.now(), ...entry });
  const commit = async (output?: unknown) => {
    const pos = position();
    const ctx = context();
    current = await store.commit(
      current.id,
      {
        status: statusOf(pos),
        snapshot: actor.getPersistedSnapshot(),
        ...(output !== undefined ? { output } : {}),
        failure: ctx.failure,
        usage: ctx.usage,
        wakeAt: wakeAtOf(workflow, pos, ctx),
        options: current.options,
      },
      journal,
      current.revision,
      options.lease?.owner,
    );
    const committed = journal;
    journal = [];
    dirty = false;
    uncommitted = 0;
    deps.onCommit(current, committed);
  };
  const envFor = (step: string, signal?: AbortSignal): StepEnv => {
    const ctx = context();
    return {
      runId: current.id,
      stepId: step,
      visit: ctx.visits[step] ?? 1,
      attempt: Math.max(ctx.attempt, 1),
      workflow,
      context: ctx,
      tools: runtime.tools,
      model: deps.model,
      signal: signal ?? options.signal ?? new AbortController().signal,
      maxOutputBytes,
      ...(deps.breakers
        ? { breakers: { service: deps.breakers, onChange: (change) => note({ ...where(step), at: change.at, event: 'breaker', data: change }) } }
        : {}),
    };
  };
  const where = (step: string) => ({ step, visit: context().visits[step] ?? 0, attempt: context().attempt });
  const maxOutputBytes = deps.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  /** A cancel requested while this drive lasts: it cancels the run at the next step boundary, or at once mid-step. */
  const cancelling = (): boolean => {
    if (!watch?.request()) return false;
    const pos = position();
    const status = statusOf(pos);
    return !finishedStatuses.includes(status) || (status === 'failed' && isResumable(status, context().failure, pos));
  };
  const cancelRun = async () => {
    const request = watch?.request();
    const at = clock.now();
    const reason = request?.reason ?? 'cancelled';
    send({ type: 'run.cancel', at, reason });
    journal.push({ step: null, visit: 0, attempt: 0, event: 'cancelled', at, data: { reason } });
    await commit();
    await deps.cancels?.clear(current.id).catch(() => {});
  };
  /** Stops the drive, committing nothing, when the caller's lease on the run is gone. */
  const holdLease = async () => {
    if (!options.lease || (await options.lease.check())) return;
    throw new LeaseLostError(current.id, options.lease.owner, (await store.get(current.id))?.lease?.owner ?? null);
  };

  let watch: CancelWatch | null = null;
  try {
    watch = deps.cancels ? await deps.cancels.watch(current.id) : null;
    if (options.event) {
      send(options.event.event);
      journal.push(...options.event.journal);
    }
    let transitions = 0;
    for (; transitions < MAX_TRANSITIONS; transitions++, uncommitted++) {
      if (options.signal?.aborted) {
        if (options.signal.reason instanceof LeaseLostError) throw options.signal.reason;
        break;
      }
      if (cancelling()) {
        await cancelRun();
        break;
      }
      if (options.stop?.aborted) {
        if (dirty) await commit();
        break;
      }
      const pos = position();
      // Choices and waits that time out at once commit nothing themselves: write them in bounded batches.
      if (dirty && uncommitted >= COMMIT_EVERY && (pos.kind === 'choice' || pos.kind === 'wait')) await commit();
      const ctx = context();
      const now = clock.now();
      const deadline = deadlineAt(workflow, ctx);
      const active = pos.kind === 'work' ? !['failed', 'budget_exhausted'].includes(pos.phase) : pos.kind === 'wait' || pos.kind === 'choice';
      if (deadline !== null && active && now >= deadline) {
        send({ type: 'run.deadline', at: now });
        note({ ...where('step' in pos ? pos.step : ''), event: 'failed', error: { kind: 'deadline', message: 'the workflow deadline passed' } });
        await commit();
        break;
      }

      if (pos.kind === 'work') {
        const executor = executors[stepKindOf(workflow, pos.step)];
        if (!executor) throw new Error(`no executor for step "${pos.step}"`);
        const key = `${pos.step}:${ctx.visits[pos.step]}:${ctx.attempt}`;

        if (pos.phase === 'ready') {
          let ready: PreparedStep;
          try {
            ready = await executor.prepare(envFor(pos.step));
          } catch (error) {
            // The step's own data is broken (an expression failed) or its tool is missing: fail the attempt, no retry.
            send({ type: 'step.run', at: clock.now(), projectedTokens: 0, projectedUsd: 0 });
            const failure = unprepared(error);
            note({ ...where(pos.step), event: 'failed', error: failure.error });
            send(failedEvent(clock.now(), failure, null));
            continue;
          }
          send({ type: 'step.run', at: clock.now(), projectedTokens: ready.projectedTokens, projectedUsd: ready.projectedUsd });
          const after = position();
          if (after.kind === 'work' && after.phase === 'running') {
            prepared = { key: `${pos.step}:${context().visits[pos.step]}:${context().attempt}`, value: ready };
            note({ ...where(pos.step), event: 'started', data: { projectedTokens: ready.projectedTokens } });
            if (options.mode === 'step' && executed > 0) {
              await commit();
              break;
            }
            await commit();
            crashPoint('step-started');
            continue;
          }
          const failure = context().failure;
          note({
            ...where(pos.step),
            event: after.kind === 'work' && after.phase === 'budget_exhausted' ? 'budget_exhausted' : 'loop_detected',
            ...(failure ? { error: { kind: failure.kind, message: failure.message } } : {}),
          });
          await commit();
          break;
        }

        if (pos.phase === 'running') {
          if (options.mode === 'step' && executed > 0) break;
          const attempt = new AbortController();
          const env = envFor(pos.step, attempt.signal);
          let ready: PreparedStep | null = prepared?.key === key ? prepared.value : null;
          let prepareError: unknown = null;
          let gaveUp: StepOutcome | null = null;
          if (!ready) {
            // Restored mid-attempt: the step had started but not completed, so it runs again with the same key,
            // a bounded number of times: each re-run is committed before the call, so a call that is interrupted
            // every time (it always outlives the lease) fails the attempt instead of running forever.
            const here = where(pos.step);
            const reruns = (await store.journal(current.id)).filter(
              (e) => e.event === 'started' && e.step === here.step && e.visit === here.visit && e.attempt === here.attempt && isRerun(e.data),
            ).length;
            if (reruns >= MAX_INTERRUPTED_RERUNS) {
              gaveUp = interrupted(pos.step, reruns);
            } else {
              note({ ...here, event: 'started', data: { rerun: true } });
              await holdLease();
              await commit();
              try {
                ready = await executor.prepare(env);
              } catch (error) {
                prepareError = error;
              }
            }
          }
          await holdLease();
          let end: AttemptEnd;
          if (gaveUp) {
            end = { kind: 'outcome', outcome: gaveUp };
          } else if (ready) {
            const step = ready;
            crashPoint(step.request ? 'mid-model' : 'mid-tool');
            end = await raceAttempt(
              async () => {
                if (step.request && deps.beforeModelCall) await deps.beforeModelCall(step.projectedTokens, attempt.signal);
                return traceStep({ runId: current.id, stepId: pos.step, kind: stepKindOf(workflow, pos.step), visit: env.visit, attempt: env.attempt }, () =>
                  executor.execute(env, step),
                );
              },
              {
                clock,
                controller: attempt,
                timeoutMs: attemptTimeout(workflow, pos.step),
                ...(watch ? { cancel: watch.signal } : {}),
                ...(options.signal ? { abort: options.signal } : {}),
              },
            );
          } else {
            end = { kind: 'outcome', outcome: unprepared(prepareError) };
          }
          // The drive lost its lease: whoever holds it now continues the run; nothing is committed here.
          if (end.kind === 'aborted') {
            if (options.signal?.reason instanceof LeaseLostError) throw options.signal.reason;
            break;
          }
          if (end.kind === 'cancelled') {
            note({ ...where(pos.step), event: 'failed', error: { kind: 'cancelled', message: 'the attempt was interrupted by a cancel' } });
            prepared = null;
            continue;
          }
          const outcome: StepOutcome =
            end.kind === 'timeout'
              ? timedOut(pos.step, end.timeoutMs)
              : end.kind === 'error'
                ? engineFailure(end.error)
                : guardOutcome(pos.step, end.outcome, maxOutputBytes);
          crashPoint('after-tool');
          // The step may have outlived the lease (a blocked event loop stops the heartbeat): its result is not committed then.
          await holdLease();
          executed++;
          prepared = null;
          const at = clock.now();
          const attemptOf = where(pos.step);
          if (outcome.ok) {
            send({
              type: 'step.done',
              at,
              output: outcome.output,
              usage: outcome.usage,
              ...(outcome.fingerprint ? { fingerprint: outcome.fingerprint } : {}),
            });
            const after = position();
            const looped = after.kind === 'work' && after.step === pos.step && after.phase === 'failed';
            note({
              ...attemptOf,
              at,
              event: looped ? 'loop_detected' : 'completed',
              input: outcome.input,
              output: outcome.output,
              usage: outcome.usage,
              latencyMs: outcome.latencyMs,
              ...(looped && context().failure ? { error: { kind: 'loop', message: context().failure!.message } } : {}),
            });
          } else {
            const attempt = ctx.attempt;
            const retry = resolveRetry(stepRetry(workflow, pos.step), workflow.retry);
            const delay = backoffDelay(retry, attempt, seededRandom(`${current.id}:${key}`));
            send(failedEvent(at, outcome, at + delay));
            const after = position();
            const exhausted = after.kind === 'work' && after.step === pos.step && after.phase === 'budget_exhausted';
            note({
              ...attemptOf,
              at,
              event: exhausted ? 'budget_exhausted' : 'failed',
              ...(outcome.input !== undefined ? { input: outcome.input } : {}),
              usage: outcome.usage,
              latencyMs: outcome.latencyMs,
              error: { kind: outcome.error.kind, message: outcome.error.message },
            });
            if (after.kind === 'work' && after.step === pos.step && after.phase === 'retrying') {
              note({ ...attemptOf, at, event: 'retry_scheduled', data: { retryAt: at + delay, delayMs: delay } });
            }
          }
          continue;
        }

        if (pos.phase === 'retrying') {
          const due = ctx.retryAt ?? now;
          if (due > now) {
            if (dirty) await commit();
            crashPoint('backoff');
            if (!options.sleepTimers) break;
            // Sleep until the backoff ends or the deadline passes, whichever is first; the loop then retries, cancels or fails the run.
            await clock.sleep((deadline === null ? due : Math.min(due, deadline)) - now, anySignal(options.signal, watch?.signal));
            if (options.signal?.aborted) break;
            continue;
          }
          send({ type: 'step.retry', at: clock.now() });
          continue;
        }

        // failed or budget_exhausted: the run rests here until resumed.
        if (dirty) await commit();
        break;
      }

      if (pos.kind === 'choice') {
        const branches = (workflow.steps[pos.step] as ChoiceStep).choice;
        const scope = scopeOf({ runId: current.id, context: ctx });
        let index = -1;
        try {
          for (let b = 0; b < branches.length && index < 0; b++) {
            const when = branches[b]?.when;
            if (when === undefined || (await evaluateCondition(when, scope))) index = b;
          }
        } catch (error) {
          const message = (error as Error).message;
          send({ type: 'choice.none', at: clock.now(), message: `choice "${pos.step}": ${message}` });
          note({ ...where(pos.step), event: 'failed', error: { kind: 'invalid_data', message } });
          continue;
        }
        index = deps.chooseBranch?.(pos.step) ?? index;
        if (index < 0) {
          send({ type: 'choice.none', at: clock.now() });
          note({ ...where(pos.step), event: 'failed', error: { kind: 'invalid_data', message: `no branch of choice "${pos.step}" matched` } });
          continue;
        }
        note({ ...where(pos.step), event: 'choice', data: { branch: index, next: branches[index]?.next } });
        send({ type: 'choice.take', at: clock.now(), index });
        continue;
      }

      if (pos.kind === 'wait') {
        const wake = wakeAtOf(workflow, pos, ctx);
        const timeoutAt = waitTimeoutAt(workflow, pos.step, ctx);
        if (timeoutAt !== null && timeoutAt <= now) {
          note({ ...where(pos.step), event: 'timeout' });
          send({ type: 'wait.timeout', at: now });
          continue;
        }
        // A run whose first step is a wait enters it without any event: it is not dirty, but not yet `waiting` either.
        if (dirty || current.status !== 'waiting') {
          note({ ...where(pos.step), event: 'waiting', data: { events: pos.events, timeoutAt, wakeAt: wake } });
          await commit();
          crashPoint('waiting');
        }
        break;
      }

      if (pos.kind === 'finishing') {
        const spec = workflow.steps[pos.step] as FinalStep;
        let output: unknown = null;
        if (spec.output !== undefined) {
          try {
            output = await evaluateMapping(compileMapping(spec.output), scopeOf({ runId: current.id, context: ctx }));
          } catch (error) {
            // The run's own data or definition is broken: the run fails (not resumable: the same output would fail again).
            const message = `the output of final step "${pos.step}" failed: ${(error as Error).message}`;
            send({ type: 'final.failed', at: clock.now(), message });
            note({ ...where(pos.step), event: 'failed', error: { kind: 'invalid_data', message } });
            continue;
          }
        }
        send({ type: 'final.done', at: clock.now() });
        note({ ...where(pos.step), event: 'finished', output });
        await commit(output);
        break;
      }

      if (pos.kind === 'final') {
        if (dirty) await commit();
        break;
      }

      // failed or cancelled; a choice or wait entered past its visit limit fails the run as a loop.
      const failure = ctx.failure;
      if (dirty && pos.kind === 'failed' && failure?.kind === 'loop' && failure.step !== null) {
        note({ ...where(failure.step), event: 'loop_detected', error: { kind: 'loop', message: failure.message } });
      }
      if (dirty) await commit();
      break;
    }
    // Out of transitions for this drive: keep what was done; the next drive goes on from here.
    if (transitions >= MAX_TRANSITIONS && dirty) await commit();
  } finally {
    watch?.stop();
    actor.stop();
  }
  return current;
}

function failedEvent(at: number, outcome: Extract<StepOutcome, { ok: false }>, retryAt: number | null): StepFailedEvent {
  return {
    type: 'step.failed',
    at,
    usage: outcome.usage,
    error: outcome.error,
    retryable: outcome.retryable,
    retryAt,
    ...(outcome.fingerprint ? { fingerprint: outcome.fingerprint } : {}),
  };
}

function stepKindOf(workflow: Workflow, id: string) {
  const step = workflow.steps[id];
  if (!step) throw new Error(`unknown step "${id}"`);
  if ('claude' in step) return 'claude' as const;
  if ('analyze' in step) return 'analyze' as const;
  return 'tool' as const;
}

/** The time one attempt of a `tool` step may take (its `timeout`); model steps bound each request with it instead. */
function attemptTimeout(workflow: Workflow, id: string): number | null {
  const step = workflow.steps[id] as { timeout?: number | string; tool?: unknown };
  return 'tool' in step && step.timeout !== undefined ? parseDuration(step.timeout) : null;
}

function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}

function stepRetry(workflow: Workflow, id: string) {
  const step = workflow.steps[id] as { retry?: Workflow['retry'] };
  return step.retry;
}

/** A `started` entry written when an attempt interrupted mid-call runs again with its key. */
function isRerun(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { rerun?: unknown }).rerun === true;
}
