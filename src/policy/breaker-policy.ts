/**
 * Which circuit breaker applies to a step's tool: the step's `breaker`, else
 * the workflow's, else the defaults (5 consecutive failures, 30 s cool-down).
 * `false` at either level turns the breaker off for that scope.
 */
import type { Breaker } from '../definition/schema.js';
import { parseDuration } from '../util/duration.js';

/** A breaker policy with every field set; the cool-down in milliseconds. */
export interface ResolvedBreaker {
  readonly threshold: number;
  readonly cooldownMs: number;
}

/** The policy when a definition says nothing: open after 5 consecutive failures, probe after 30 s. */
export const breakerDefaults: ResolvedBreaker = { threshold: 5, cooldownMs: 30_000 };

/**
 * Merges a step's and a workflow's `breaker`, field by field, the step's first.
 * Returns `null` when the breaker is turned off.
 *
 * @example
 * resolveBreaker({ threshold: 2 }, { cooldown: '1m' }); // { threshold: 2, cooldownMs: 60000 }
 * resolveBreaker(false, { threshold: 2 });              // null
 */
export function resolveBreaker(step: Breaker | undefined, workflow: Breaker | undefined): ResolvedBreaker | null {
  if (step === false || (step === undefined && workflow === false)) return null;
  const outer = workflow === false ? undefined : workflow;
  const threshold = step?.threshold ?? outer?.threshold ?? breakerDefaults.threshold;
  const cooldown = step?.cooldown ?? outer?.cooldown;
  return { threshold, cooldownMs: cooldown === undefined ? breakerDefaults.cooldownMs : parseDuration(cooldown) };
}

/** The key of a tool's breaker in the store's shared values. */
export function breakerKey(tool: string): string {
  return `breaker:${tool}`;
}
