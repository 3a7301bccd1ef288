/**
 * Drives one run: restores its actor from the stored snapshot, performs the
 * effect its state asks for (prepare a step, execute it, wait for a backoff,
 * evaluate a choice or the final output), sends the result to the machine, and
 * commits the snapshot with its journal entries in one transaction at every
 * point a crash must not lose: when a step attempt starts and whenever the run
 * comes to rest. A completed step is committed together with the start of the
 * next one, so each step costs one transaction.
 */
import { createActor, type Actor, type InspectionEvent, type Observer } from 'xstate';
import type { RunContext } from '../compile/context.js';
import { compileMapping, evaluateCondition, evaluateMapping } from '../expr/index.js';
import type { FinalStep, ChoiceStep, Workflow } from '../definition/schema.js';
import type { ModelConfig } from '../model/client.js';
import { backoffDelay, resolveRetry } from '../policy/backoff.js';
import { zeroUsage, type NewJournalEntry, type RunRecord } from '../run/types.js';
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
  readonly event?: { readonly event: { type: string; at: number } & Record<string, unknown>; readonly journal: readonly NewJournalEntry[] };
}

export interface DriverDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly model: ModelConfig;
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  readonly onCommit: (record: RunRecord) => void;
  /** Awaited before each model call with its projected tokens (the shared rate limit). */
  readonly beforeModelCall?: (projectedTokens: number, signal?: AbortSignal) => Promise<void>;
  /** The engine's circuit breakers, shared by its runs through the store. */
  readonly breakers?: Breakers;
}

const MAX_TRANSITIONS = 100_000;

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
  let executed = 0;
  let prepared: { key: string; value: PreparedStep } | null = null;

  const context = () => actor.getSnapshot().context as RunContext;
  const position = () => positionOf(workflow, actor.getSnapshot() as never);
  const send = (event: { type: string; at: number } & Record<string, unknown>) => {
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
    journal = [];
    dirty = false;
    deps.onCommit(current);
  };
  const envFor = (step: string): StepEnv => {
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
      signal: options.signal ?? new AbortController().signal,
      ...(deps.breakers
        ? { breakers: { service: deps.breakers, onChange: (change) => note({ ...where(step), at: change.at, event: 'breaker', data: change }) } }
        : {}),
    };
  };
  const where = (step: string) => ({ step, visit: context().visits[step] ?? 0, attempt: context().attempt });
  /** Stops the drive, committing nothing, when the caller's lease on the run is gone. */
  const holdLease = async () => {
    if (!options.lease || (await options.lease.check())) return;
    throw new LeaseLostError(current.id, options.lease.owner, (await store.get(current.id))?.lease?.owner ?? null);
  };

  try {
    if (options.event) {
      send(options.event.event);
      journal.push(...options.event.journal);
    }
    for (let i = 0; i < MAX_TRANSITIONS; i++) {
      if (options.signal?.aborted) {
        if (options.signal.reason instanceof LeaseLostError) throw options.signal.reason;
        break;
      }
      if (options.stop?.aborted) {
        if (dirty) await commit();
        break;
      }
      const pos = position();
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
            // The step's own data is broken (an expression failed): fail the attempt, no retry.
            send({ type: 'step.run', at: clock.now(), projectedTokens: 0, projectedUsd: 0 });
            const message = error instanceof Error ? error.message : String(error);
            note({ ...where(pos.step), event: 'failed', error: { kind: 'invalid_data', message } });
            send(failedEvent(clock.now(), { ok: false, error: { kind: 'invalid_data', message }, retryable: false, usage: zero, latencyMs: 0 }, null));
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
          const env = envFor(pos.step);
          const ready = prepared?.key === key ? prepared.value : await executor.prepare(env).catch(() => null);
          if (prepared?.key !== key) {
            // Restored mid-attempt: the step had started but not completed, so it runs again with the same key.
            note({ ...where(pos.step), event: 'started', data: { rerun: true } });
          }
          let outcome: StepOutcome;
          await holdLease();
          try {
            crashPoint(ready?.request ? 'mid-model' : 'mid-tool');
            if (ready?.request && deps.beforeModelCall) await deps.beforeModelCall(ready.projectedTokens, options.signal);
            outcome = ready
              ? await traceStep({ runId: current.id, stepId: pos.step, kind: stepKindOf(workflow, pos.step), visit: env.visit, attempt: env.attempt }, () =>
                  executor.execute(env, ready),
                )
              : { ok: false, error: { kind: 'invalid_data', message: 'the step input could not be prepared' }, retryable: false, usage: zero, latencyMs: 0 };
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            outcome = { ok: false, error: { kind: 'tool_error', message }, retryable: false, usage: zero, latencyMs: 0 };
          }
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
            note({
              ...attemptOf,
              at,
              event: 'failed',
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
            await clock.sleep(due - now, options.signal);
            if (options.signal?.aborted) break;
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

      if (pos.kind === 'final') {
        const spec = workflow.steps[pos.step] as FinalStep;
        let output: unknown = null;
        if (spec.output !== undefined) {
          try {
            output = await evaluateMapping(compileMapping(spec.output), scopeOf({ runId: current.id, context: ctx }));
          } catch (error) {
            output = { error: (error as Error).message };
          }
        }
        if (dirty || current.status !== 'done') {
          note({ ...where(pos.step), event: 'finished', output });
          await commit(output);
        }
        break;
      }

      // failed or cancelled
      if (dirty) await commit();
      break;
    }
  } finally {
    actor.stop();
  }
  return current;
}

const zero = zeroUsage;

function failedEvent(at: number, outcome: Extract<StepOutcome, { ok: false }>, retryAt: number | null) {
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

function stepRetry(workflow: Workflow, id: string) {
  const step = workflow.steps[id] as { retry?: Workflow['retry'] };
  return step.retry;
}
