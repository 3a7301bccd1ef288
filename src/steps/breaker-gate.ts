/**
 * The circuit breaker in front of every tool call: asks the engine's shared
 * breaker before the call, reports the outcome after it, and hands every
 * state change to the driver for the journal. A call the open breaker rejects
 * is a `breaker_open` failure that is not retried: the step takes its
 * `onError` route at once, or the run stops `failed` (resumable).
 */
import { stepOf } from '../definition/sequences.js';
import type { StepFailure } from '../compile/context.js';
import { resolveBreaker, type ResolvedBreaker } from '../policy/breaker-policy.js';
import type { Breaker } from '../definition/schema.js';
import type { StepEnv } from './types.js';

/** The breaker policy of the current step's tool, or null when it has none. */
export function breakerPolicyOf(env: Pick<StepEnv, 'workflow' | 'stepId'>): ResolvedBreaker | null {
  const step = stepOf(env.workflow, env.stepId) as { breaker?: Breaker } | undefined;
  return resolveBreaker(step?.breaker, env.workflow.breaker);
}

function openFailure(tool: string, retryAt: number | null): StepFailure {
  const until = retryAt === null ? '' : ` until ${new Date(retryAt).toISOString()}`;
  return { kind: 'breaker_open', message: `${tool}: the circuit breaker is open${until} after repeated failures; the call was not made` };
}

/**
 * Checks, without taking a probe, whether the tool's breaker would reject a
 * call: a `claude` step asks this before spending tokens on the model call.
 */
export async function breakerRejects(env: StepEnv, tool: string): Promise<StepFailure | null> {
  const policy = breakerPolicyOf(env);
  if (!env.breakers || !policy) return null;
  const { open, retryAt } = await env.breakers.service.isOpen(tool, policy);
  return open ? openFailure(tool, retryAt) : null;
}

/** Runs `call` behind the tool's breaker; `failed(result)` tells a failed call from a good one. */
export async function behindBreaker<R>(
  env: StepEnv,
  tool: string,
  call: () => Promise<R>,
  failed: (result: R) => boolean,
): Promise<{ rejected: StepFailure } | { result: R }> {
  const policy = breakerPolicyOf(env);
  const gate = env.breakers;
  if (!gate || !policy) return { result: await call() };
  const permit = await gate.service.acquire(tool, policy);
  if (permit.change) gate.onChange(permit.change);
  if (!permit.allowed) return { rejected: openFailure(tool, permit.retryAt) };
  const result = await call();
  // A call cut short from outside its attempt (a sibling branch failed, the run was cancelled) says nothing about the
  // tool: it is not counted (a probe it was lets another through after the cool-down). Its own timeout counts.
  if (env.aborted?.() === true) return { result };
  const change = await gate.service.record(tool, failed(result) ? 'failure' : 'success', policy);
  if (change) gate.onChange(change);
  return { result };
}
