/**
 * `stepwise bench --tokens`: the token head-to-head on its own — the three
 * model arms on one emulator, with their targets (completion, tokens against
 * the stateless arm, max/min spread) and the cheapest and dearest 5-step
 * workflows — in a minute instead of the full run's overhead, memory and
 * PostgreSQL measures.
 */
import { performance } from 'node:perf_hooks';
import { parseFaults } from '../emulator/faults.js';
import type { FaultsDrawn } from './faults-drawn.js';
import { modelArm, runModelArms, tokenGap, type ModelArmResult, type TokenGap } from './model-arms.js';
import { likeWithLike } from './report-sections.js';
import { generateScenarios } from './scenarios.js';
import { modelTargets, targetsTable, type Target } from './targets.js';

export interface TokensBench {
  readonly scenarios: number;
  readonly profile: string;
  readonly seed: number;
  readonly arms: { readonly stateless: ModelArmResult & FaultsDrawn; readonly stepwise: ModelArmResult & FaultsDrawn; readonly stepwiseClaude: ModelArmResult & FaultsDrawn };
  readonly tokenGap: TokenGap | null;
  /** The head-to-head's targets alone (the full run's `targets` holds them with the others). */
  readonly targets: readonly Target[];
  readonly durationSeconds: number;
}

export interface TokensOptions {
  readonly scenarios: number;
  /** A fault profile name or spec. */
  readonly profile: string;
  readonly seed: number;
  readonly concurrency: number;
  readonly onProgress?: (message: string) => void;
  readonly onTick?: (arm: string, done: number, total: number) => void;
}

/**
 * Runs the three model arms and their targets.
 * @example
 * const tokens = await tokensBenchmark({ scenarios: 200, profile: 'flaky', seed: 1, concurrency: 4 });
 * tokens.arms.stepwise.tokensPer5StepExtremes; // the two ends of the spread target
 */
export async function tokensBenchmark(options: TokensOptions): Promise<TokensBench> {
  const started = performance.now();
  const scenarios = generateScenarios(options.seed, options.scenarios);
  options.onProgress?.(`${options.scenarios} scenarios, profile ${options.profile}, seed ${options.seed}: the model arms only`);
  const { outcomes, faults } = await runModelArms(scenarios, {
    faults: parseFaults(options.profile),
    seed: options.seed,
    concurrency: options.concurrency,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.onTick ? { onTick: options.onTick } : {}),
  });
  const stateless = { ...modelArm(outcomes.stateless), ...faults.stateless };
  const stepwise = { ...modelArm(outcomes.stepwise), ...faults.stepwise };
  const stepwiseClaude = { ...modelArm(outcomes.stepwiseClaude), ...faults.stepwiseClaude };
  return {
    scenarios: options.scenarios,
    profile: options.profile,
    seed: options.seed,
    arms: { stateless, stepwise, stepwiseClaude },
    tokenGap: tokenGap(stateless.tokensPer5StepWorkflow, stepwiseClaude.tokensPer5StepWorkflow, stepwise.tokensPer5StepWorkflow),
    targets: modelTargets({ profile: options.profile, stateless, stepwise, stepwiseClaude }),
    durationSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

/** The like-with-like table and the head-to-head's targets, as Markdown. */
export function formatTokensTable(t: TokensBench): string {
  return [
    `Scenarios: ${t.scenarios}, profile \`${t.profile}\`, seed ${t.seed}; model arms only, ${t.durationSeconds} s.`,
    '',
    ...likeWithLike(t),
    '',
    ...targetsTable(t.targets),
  ].join('\n');
}
