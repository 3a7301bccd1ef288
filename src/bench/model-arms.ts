/**
 * The head-to-head's model arms: the stateless SDK tool runner, Stepwise with
 * tool steps where no model is needed (mixed), and Stepwise with every step a
 * `claude` step, run one after the other against one emulator (same seed,
 * same faults), and the figures each arm reports.
 */
import { startEmulator } from '../emulator/server.js';
import type { FaultSpec } from '../emulator/faults.js';
import { createMemoryStore } from '../store/memory.js';
import type { Store } from '../store/types.js';
import { runStateless } from './arms/stateless.js';
import { runStepwise } from './arms/stepwise.js';
import { runStepwiseAllClaude } from './arms/stepwise-claude.js';
import type { ScenarioOutcome } from './arms/types.js';
import { tokenExtremes, type TokenExtremes } from './extremes.js';
import { faultsDrawn, type FaultsDrawn } from './faults-drawn.js';
import type { Scenario } from './scenarios.js';
import { countBy, pool, summarize, type Summary } from './stats.js';

/** What a model arm reports: completion, failures, tokens (every input token sent, cached or not, plus output), calls. */
export interface ModelArmResult {
  readonly runs: number;
  readonly completed: number;
  readonly completionRate: number;
  readonly failures: Record<string, number>;
  readonly tokensPerWorkflow: Summary | null;
  readonly tokensPer5StepWorkflow: Summary | null;
  readonly inputTokensPerWorkflow: Summary | null;
  readonly outputTokensPerWorkflow: Summary | null;
  readonly inputTokensPer5StepWorkflow: Summary | null;
  readonly outputTokensPer5StepWorkflow: Summary | null;
  readonly tokensBySize: Record<string, Summary | null>;
  /** The cheapest and dearest 5-step workflows by scenario: the ends of the max/min spread target (absent in older result files). */
  readonly tokensPer5StepExtremes: TokenExtremes | null;
  readonly modelCallsPerWorkflow: Summary | null;
  readonly httpRequestsPerWorkflow: Summary | null;
}

export interface TokenGap {
  readonly stateless: number;
  readonly stepwiseAllClaude: number;
  readonly stepwise: number;
  /** stateless − all-claude: one step's declared context and a compact summary instead of the transcript. */
  readonly engine: number;
  /** all-claude − mixed: steps whose inputs come from earlier results need no model. */
  readonly design: number;
  /** Shares of the whole gap (stateless − mixed). */
  readonly engineShare: number;
  readonly designShare: number;
}

/** The token gap per 5-step workflow split into the engine's part and the design's; null when there is no gap. */
export function tokenGap(stateless: Summary | null, allClaude: Summary | null, mixed: Summary | null): TokenGap | null {
  if (!stateless || !allClaude || !mixed || stateless.mean === mixed.mean) return null;
  const whole = stateless.mean - mixed.mean;
  const engine = stateless.mean - allClaude.mean;
  const design = allClaude.mean - mixed.mean;
  return {
    stateless: stateless.mean, stepwiseAllClaude: allClaude.mean, stepwise: mixed.mean, engine, design,
    engineShare: Math.round((engine / whole) * 1000) / 1000, designShare: Math.round((design / whole) * 1000) / 1000,
  };
}

/** One model arm's figures from its outcomes. */
export function modelArm(outcomes: readonly ScenarioOutcome[]): ModelArmResult {
  const total = (o: ScenarioOutcome) => o.inputTokens + o.outputTokens;
  const five = outcomes.filter((o) => o.steps === 5);
  const sizes = [...new Set(outcomes.map((o) => o.steps))].sort((a, b) => a - b);
  const completed = outcomes.filter((o) => o.completed).length;
  return {
    runs: outcomes.length,
    completed,
    completionRate: outcomes.length ? Math.round((completed / outcomes.length) * 10000) / 10000 : 0,
    failures: countBy(outcomes.flatMap((o) => (o.failure ? [o.failure] : []))),
    tokensPerWorkflow: summarize(outcomes.map(total)),
    tokensPer5StepWorkflow: summarize(five.map(total)),
    inputTokensPerWorkflow: summarize(outcomes.map((o) => o.inputTokens)),
    outputTokensPerWorkflow: summarize(outcomes.map((o) => o.outputTokens)),
    inputTokensPer5StepWorkflow: summarize(five.map((o) => o.inputTokens)),
    outputTokensPer5StepWorkflow: summarize(five.map((o) => o.outputTokens)),
    tokensBySize: Object.fromEntries(sizes.map((n) => [`${n}`, summarize(outcomes.filter((o) => o.steps === n).map(total))])),
    tokensPer5StepExtremes: tokenExtremes(outcomes, 5),
    modelCallsPerWorkflow: summarize(outcomes.map((o) => o.modelCalls)),
    httpRequestsPerWorkflow: summarize(outcomes.map((o) => o.httpRequests)),
  };
}


type Arms<T> = { readonly stateless: T; readonly stepwise: T; readonly stepwiseClaude: T };

export interface ModelArmsOptions {
  readonly faults: FaultSpec;
  readonly seed: number;
  /** Scenarios run at once in each arm. */
  readonly concurrency: number;
  readonly onProgress?: (message: string) => void;
  /** Called as each scenario of an arm finishes. */
  readonly onTick?: (arm: string, done: number, total: number) => void;
}

/**
 * Runs the three model arms over `scenarios` on one emulator: each scenario's
 * outcome, and the faults each arm drew.
 *
 * @example
 * const { outcomes } = await runModelArms(generateScenarios(1, 20), { faults: parseFaults('flaky'), seed: 1, concurrency: 4 });
 * modelArm(outcomes.stepwise).completionRate; // e.g. 1
 */
export async function runModelArms(scenarios: readonly Scenario[], options: ModelArmsOptions): Promise<{ outcomes: Arms<ScenarioOutcome[]>; faults: Arms<FaultsDrawn> }> {
  const progress = options.onProgress ?? (() => {});
  const emulator = await startEmulator({ seed: options.seed, faults: options.faults });
  try {
    const ticked = <T>(arm: string, run: (s: Scenario) => Promise<T>) => {
      let done = 0;
      return async (s: Scenario) => {
        const result = await run(s);
        options.onTick?.(arm, ++done, scenarios.length);
        return result;
      };
    };
    let before = emulator.stats();
    const drew = (): FaultsDrawn => {
      const after = emulator.stats();
      const delta = faultsDrawn(before, after, scenarios.length);
      before = after;
      return delta;
    };
    progress('stateless arm: SDK tool runner, full transcript each turn');
    const stateless = await pool(scenarios, options.concurrency, ticked('stateless', (s) => runStateless(s, { baseURL: emulator.url })));
    const statelessFaults = drew();
    /** A Stepwise arm: every scenario on one fresh memory store of its own. */
    const onStepwise = async (arm: string, run: (s: Scenario, store: Store) => Promise<ScenarioOutcome>) => {
      const store = createMemoryStore();
      await store.migrate();
      try {
        return await pool(scenarios, options.concurrency, ticked(arm, (s) => run(s, store)));
      } finally {
        await store.close();
      }
    };
    progress('stepwise arm: Stepwise engine, memory store');
    const stepwise = await onStepwise('stepwise', (s, store) => runStepwise(s, store, { baseURL: emulator.url }));
    const stepwiseFaults = drew();
    progress('stepwise all-claude arm: every step a claude step, memory store');
    const stepwiseClaude = await onStepwise('stepwise all-claude', (s, store) => runStepwiseAllClaude(s, store, { baseURL: emulator.url }));
    return { outcomes: { stateless, stepwise, stepwiseClaude }, faults: { stateless: statelessFaults, stepwise: stepwiseFaults, stepwiseClaude: drew() } };
  } finally {
    await emulator.close();
  }
}
