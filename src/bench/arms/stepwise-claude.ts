/**
 * The like-with-like Stepwise arm: the same definitions with every step a
 * `claude` step, so the model fills every tool input (from only the context
 * the step declares) and meets the same per-request faults on every step, as
 * the stateless arm does. What is left of the token gap against the stateless
 * arm is the engine's doing (one step's context and a compact progress
 * summary instead of the transcript); the rest of the gap to the mixed arm is
 * the design's (tool steps that need no model).
 */
import type { Store } from '../../store/types.js';
import type { Scenario } from '../scenarios.js';
import type { ModelArmOptions } from './stateless.js';
import { runStepwise } from './stepwise.js';
import type { ScenarioOutcome } from './types.js';

export function runStepwiseAllClaude(scenario: Scenario, store: Store, options: ModelArmOptions): Promise<ScenarioOutcome> {
  return runStepwise(scenario, store, { ...options, allClaude: true });
}
