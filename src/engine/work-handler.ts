/**
 * The driver's handler of a work step (`claude`, `analyze`, `tool` and any
 * kind built on an executor): `ready` prepares the attempt and starts it
 * (committed, so a crash re-runs it with the same idempotency key), `running`
 * executes it as an effect that may run beside other steps' effects,
 * `retrying` waits out the backoff, `failed` and `budget_exhausted` rest.
 */
import { stepRunOf } from '../compile/context.js';
import type { StepFailedEvent } from '../compile/events.js';
import type { ActiveStep, Advance, StepHandler } from '../kinds/types.js';
import { traceStep } from '../observe/tracing.js';
import { backoffDelay, resolveRetry } from '../policy/backoff.js';
import type { RetryPolicy } from '../definition/fields.js';
import { zeroUsage } from '../run/types.js';
import type { PreparedStep, StepExecutor, StepOutcome } from '../steps/types.js';
import { seededRandom } from '../util/random.js';
import { crashPoint } from './crash-points.js';
import type { RunScope } from './scope.js';

const moved: Advance = { kind: 'moved' };

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
    ...(outcome.fingerprint ? { fingerprint: outcome.fingerprint } : {}),
  };
}

async function ready(run: RunScope, id: string, executor: StepExecutor): Promise<Advance> {
  let prepared: PreparedStep;
  try {
    prepared = await executor.prepare(run.envFor(id));
  } catch (error) {
    // The step's own data is broken (an expression failed): fail the attempt, no retry.
    run.send({ type: 'step.run', step: id, at: run.clock.now(), projectedTokens: 0, projectedUsd: 0 });
    const message = error instanceof Error ? error.message : String(error);
    run.note({ ...run.where(id), event: 'failed', error: { kind: 'invalid_data', message } });
    run.send(failedEvent(id, run.clock.now(), { ok: false, error: { kind: 'invalid_data', message }, retryable: false, usage: zeroUsage, latencyMs: 0 }, null));
    return moved;
  }
  run.send({ type: 'step.run', step: id, at: run.clock.now(), projectedTokens: prepared.projectedTokens, projectedUsd: prepared.projectedUsd });
  if (run.phaseOf(id) === 'running') {
    run.prepared.set(attemptKey(run, id), prepared);
    run.note({ ...run.where(id), event: 'started', data: { projectedTokens: prepared.projectedTokens } });
    if (run.mode === 'step' && run.executed() > 0) return { kind: 'stop' };
    await run.commit();
    crashPoint('step-started');
    return moved;
  }
  const failure = run.context().failure;
  run.note({
    ...run.where(id),
    event: run.phaseOf(id) === 'budget_exhausted' ? 'budget_exhausted' : 'loop_detected',
    ...(failure ? { error: { kind: failure.kind, message: failure.message } } : {}),
  });
  await run.commit();
  return moved;
}

function running(run: RunScope, step: ActiveStep, executor: StepExecutor, retry: RetryPolicy | undefined): Advance {
  if (run.mode === 'step' && run.executed() > 0) return { kind: 'stop' };
  const id = step.id;
  return {
    kind: 'effect',
    run: async () => {
      const key = attemptKey(run, id);
      const env = run.envFor(id);
      const cached = run.prepared.get(key);
      run.prepared.delete(key);
      const prepared = cached ?? (await executor.prepare(env).catch(() => null));
      // Restored mid-attempt: the step had started but not completed, so it runs again with the same key.
      if (!cached) run.note({ ...run.where(id), event: 'started', data: { rerun: true } });
      const attempt = stepRunOf(run.context(), id).attempt;
      let outcome: StepOutcome;
      try {
        crashPoint(prepared?.request ? 'mid-model' : 'mid-tool');
        if (prepared?.request && run.beforeModelCall) await run.beforeModelCall(prepared.projectedTokens, run.signal);
        outcome = prepared
          ? await traceStep({ runId: run.runId, stepId: id, kind: step.kind, visit: env.visit, attempt: env.attempt }, () => executor.execute(env, prepared))
          : { ok: false, error: { kind: 'invalid_data', message: 'the step input could not be prepared' }, retryable: false, usage: zeroUsage, latencyMs: 0 };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        outcome = { ok: false, error: { kind: 'tool_error', message }, retryable: false, usage: zeroUsage, latencyMs: 0 };
      }
      crashPoint('after-tool');
      run.countExecuted();
      const at = run.clock.now();
      const where = run.where(id);
      if (outcome.ok) {
        run.send({ type: 'step.done', step: id, at, output: outcome.output, usage: outcome.usage, ...(outcome.fingerprint ? { fingerprint: outcome.fingerprint } : {}) });
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
          ...(looped && failure ? { error: { kind: 'loop', message: failure.message } } : {}),
        });
        return;
      }
      const policy = resolveRetry(retry, run.workflow.retry);
      const delay = backoffDelay(policy, attempt, seededRandom(`${run.runId}:${key}`));
      run.send(failedEvent(id, at, outcome, at + delay));
      run.note({
        ...where,
        at,
        event: 'failed',
        ...(outcome.input !== undefined ? { input: outcome.input } : {}),
        usage: outcome.usage,
        latencyMs: outcome.latencyMs,
        error: { kind: outcome.error.kind, message: outcome.error.message },
      });
      if (run.phaseOf(id) === 'retrying') run.note({ ...where, at, event: 'retry_scheduled', data: { retryAt: at + delay, delayMs: delay } });
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

/**
 * The handler of a kind whose steps an executor performs.
 *
 * @example
 * ```ts
 * handler: workHandler(toolStep),
 * ```
 */
export function workHandler<S extends { readonly retry?: RetryPolicy | undefined }>(executor: StepExecutor): StepHandler<S> {
  return {
    async advance(run, step, spec) {
      switch (step.phase) {
        case 'ready':
          return ready(run, step.id, executor);
        case 'running':
          return running(run, step, executor, spec.retry);
        case 'retrying':
          return retrying(run, step.id);
        default:
          return { kind: 'rest' }; // failed or budget_exhausted: until resumed
      }
    },
  };
}
