/**
 * The effect of each issue-16 item on the all-claude arm: the same scenarios
 * run in variants through the real engine against the emulator.
 * (1) tool-error feedback on against off (`retryOn` naming a reason the
 * error does not carry, so tool errors are not retried), on scenarios where
 * the document also carries a stale id the tool rejects; (2) the progress
 * summary `outputs` / `ids` / `none`; (3) a server counting 30 % more tokens
 * than the local estimate with a tight budget: no run may spend past
 * `stopAt × budget`; (4) `validate`'s worst-case bound of each run's
 * definition against the tokens that run billed.
 */
import { sentTokens } from './arms/sent-tokens.js';
import Anthropic from '@anthropic-ai/sdk';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { worstCaseOf } from '../cli/worst-case.js';
import { loadDefinitionFromObject } from '../definition/load.js';
import { ManualClock } from '../engine/clock.js';
import { createEngine } from '../engine/engine.js';
import { parseFaults } from '../emulator/faults.js';
import { startEmulator } from '../emulator/server.js';
import { createMemoryStore } from '../store/memory.js';
import type { Store } from '../store/types.js';
import { ablationDefinition, ablationTools, staleIdOf, withStaleId, type VariantDefinition } from './ablation-scenario.js';
import { checkLedger } from './check.js';
import { expectedRunOutput } from './definition.js';
import { generateScenarios, type Scenario } from './scenarios.js';
import { countBy, pool, summarize, type Summary } from './stats.js';
import type { LedgerEntry } from './tools.js';

export interface AblationOptions {
  /** Scenarios per variant (the first ones of the seed); default 40. */
  readonly scenarios?: number;
  /** Fault profile of every variant; default `flaky`. */
  readonly profile?: string;
  readonly seed?: number;
  readonly concurrency?: number;
  /** Share of scenarios whose document carries a stale id, in the tool-error variants; default 0.5. */
  readonly staleRate?: number;
  /** The tight budget of (3): tokens per step of the workflow; default 1000. */
  readonly budgetPerStep?: number;
  readonly onProgress?: (message: string) => void;
}

/** What a variant reports. */
export interface VariantResult {
  readonly runs: number;
  readonly completed: number;
  readonly completionRate: number;
  readonly failures: Record<string, number>;
  readonly tokensPer5StepWorkflow: Summary | null;
  /** max ÷ min tokens over the 5-step workflows. */
  readonly maxMin: number | null;
  /** Attempts of the model steps per workflow (first attempts and retries); the mean to 2 decimals. */
  readonly attemptsPerWorkflow: Summary | null;
}

export interface Ablation {
  readonly scenarios: number;
  readonly profile: string;
  readonly seed: number;
  readonly toolErrorFeedback: {
    /** Scenarios whose document also names a stale id that one step's tool rejects (the same ones in both variants). */
    readonly staleIdScenarios: number;
    readonly off: { readonly retryOn: readonly string[] };
    readonly feedbackOn: VariantResult;
    readonly feedbackOff: VariantResult;
  };
  readonly summary: { readonly outputs: VariantResult; readonly ids: VariantResult; readonly none: VariantResult };
  readonly calibration: VariantResult & {
    readonly tokenScale: number;
    readonly budgetTokensPerStep: number;
    readonly stopAt: number;
    readonly maxTokens: number;
    /** Runs whose billed tokens passed `stopAt × budget` (must be 0). */
    readonly overspent: number;
    readonly budgetExhausted: number;
    /** The largest billed ÷ (`stopAt × budget`) of any run. */
    readonly maxSpendOfLimit: number;
  };
  readonly worstCase: {
    /** Runs compared: every run of the variants at the emulator's own count (all but (3)). */
    readonly runs: number;
    readonly withinBound: number;
    /** Definitions whose bound is only a lower one (unbounded run data). */
    readonly unboundedDefinitions: number;
    /** Billed ÷ bound over the runs. */
    readonly tightness: { readonly mean: number; readonly max: number } | null;
    readonly maxBilled: number;
    readonly boundOfMaxBilled: number;
  };
  readonly machine: { readonly cpus: number; readonly loadAverage1m: number };
  readonly durationSeconds: number;
}

interface RunOutcome {
  readonly steps: number;
  readonly completed: boolean;
  readonly failure: string | null;
  readonly tokens: number;
  readonly billed: number;
  readonly attempts: number;
  readonly bound: number;
  readonly bounded: boolean;
  readonly limit: number;
}

interface RunSetup {
  readonly baseURL: string;
  readonly store: Store;
  readonly variantOf: (scenario: Scenario) => VariantDefinition;
  /** The stale id of a scenario, or null (none in this variant). */
  readonly staleOf: (scenario: Scenario) => ReturnType<typeof staleIdOf>;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

async function runOne(original: Scenario, setup: RunSetup): Promise<RunOutcome> {
  const stale = setup.staleOf(original);
  const scenario = withStaleId(original, stale);
  const ledger: LedgerEntry[] = [];
  const loaded = loadDefinitionFromObject(ablationDefinition(scenario, setup.variantOf(original)), ablationTools(scenario, ledger, stale), scenario.id);
  const bound = worstCaseOf(loaded);
  const client = new Anthropic({ baseURL: setup.baseURL, apiKey: 'bench', maxRetries: 2 });
  const engine = createEngine({ store: setup.store, model: { client, maxRetries: 2 }, clock: new ManualClock({ autoAdvance: true }) });
  const view = await engine.start(loaded, { input: { document: scenario.document }, runId: scenario.id });
  const check = checkLedger(scenario, ledger);
  let failure: string | null = null;
  if (view.status !== 'done') failure = view.status === 'budget_exhausted' ? 'budget_exhausted' : (view.failure?.kind ?? view.status);
  else if (!check.ok) failure = check.kind;
  else if (JSON.stringify(view.output) !== JSON.stringify(expectedRunOutput(scenario))) failure = 'wrong_output';
  return {
    steps: scenario.steps.length,
    completed: failure === null,
    failure,
    tokens: sentTokens(view.usage),
    billed: view.usage.totalTokens,
    attempts: view.steps.filter((s) => s.id !== 'done').reduce((sum, s) => sum + s.attempts, 0),
    bound: bound.tokens,
    bounded: bound.bounded,
    limit: view.budget.stopAt * view.budget.tokens,
  };
}

function variantResult(outcomes: readonly RunOutcome[]): VariantResult {
  const completed = outcomes.filter((o) => o.completed).length;
  const five = summarize(outcomes.filter((o) => o.steps === 5).map((o) => o.tokens));
  const attempts = summarize(outcomes.map((o) => o.attempts));
  return {
    runs: outcomes.length,
    completed,
    completionRate: outcomes.length ? round(completed / outcomes.length, 4) : 0,
    failures: countBy(outcomes.flatMap((o) => (o.failure ? [o.failure] : []))),
    tokensPer5StepWorkflow: five,
    maxMin: five && five.min > 0 ? round(five.max / five.min) : null,
    attemptsPerWorkflow: attempts && { ...attempts, mean: round(outcomes.reduce((sum, o) => sum + o.attempts, 0) / outcomes.length) },
  };
}

/**
 * Runs the ablation; see the module comment.
 * @example
 * const a = await ablationBenchmark({ scenarios: 40, profile: 'flaky', seed: 1 });
 * a.calibration.overspent; // 0
 */
export async function ablationBenchmark(options: AblationOptions = {}): Promise<Ablation> {
  const started = performance.now();
  const count = options.scenarios ?? 40;
  const profile = options.profile ?? 'flaky';
  const seed = options.seed ?? 1;
  const concurrency = options.concurrency ?? 4;
  const staleRate = options.staleRate ?? 0.5;
  const budgetPerStep = options.budgetPerStep ?? 1000;
  const progress = options.onProgress ?? (() => {});
  const machine = { cpus: cpus().length, loadAverage1m: round(loadavg()[0] ?? 0, 1) };
  const scenarios = generateScenarios(seed, count);
  const faults = parseFaults(profile);
  const tokenScale = 1.3;
  const stopAt = 0.9;
  const maxTokens = 256;

  const run = async (label: string, baseURL: string, variant: VariantDefinition | RunSetup['variantOf'], staleOf: RunSetup['staleOf']): Promise<RunOutcome[]> => {
    const variantOf = typeof variant === 'function' ? variant : () => variant;
    progress(`ablation: ${label}, ${count} scenarios`);
    const store = createMemoryStore();
    await store.migrate();
    try {
      return await pool(scenarios, concurrency, (s) => runOne(s, { baseURL, store, variantOf, staleOf }));
    } finally {
      await store.close();
    }
  };
  const stale = (s: Scenario) => staleIdOf(s, seed, staleRate);
  const none = () => null;
  const retryOnOff = ['temporarily_unavailable'];

  const emulator = await startEmulator({ seed, faults });
  let on: RunOutcome[], off: RunOutcome[], outputs: RunOutcome[], ids: RunOutcome[], bare: RunOutcome[];
  try {
    on = await run('tool-error feedback on (stale ids)', emulator.url, {}, stale);
    off = await run(`tool-error feedback off: retryOn ${JSON.stringify(retryOnOff)} (stale ids)`, emulator.url, { retryOn: retryOnOff }, stale);
    outputs = await run('summary: outputs', emulator.url, { summary: 'outputs' }, none);
    ids = await run('summary: ids', emulator.url, { summary: 'ids' }, none);
    bare = await run('summary: none', emulator.url, { summary: 'none' }, none);
  } finally {
    await emulator.close();
  }
  const scaled = await startEmulator({ seed, faults: { ...faults, token_scale: tokenScale } });
  let calibrated: RunOutcome[];
  try {
    // The budget grows with the workflow's size: each scenario's definition gets its own.
    const tight = (s: Scenario): VariantDefinition => ({ budget: { tokens: budgetPerStep * s.steps.length, stopAt }, maxTokens });
    calibrated = await run(`token_scale=${tokenScale}, budget ${budgetPerStep} tokens per step, max_tokens ${maxTokens}`, scaled.url, tight, none);
  } finally {
    await scaled.close();
  }

  const compared = [...on, ...off, ...outputs, ...ids, ...bare];
  const ratios = compared.filter((o) => o.bound > 0).map((o) => o.billed / o.bound);
  const maxBilled = compared.reduce<RunOutcome | null>((m, o) => (!m || o.billed > m.billed ? o : m), null);
  return {
    scenarios: count,
    profile,
    seed,
    toolErrorFeedback: {
      staleIdScenarios: scenarios.filter((s) => stale(s) !== null).length,
      off: { retryOn: retryOnOff },
      feedbackOn: variantResult(on),
      feedbackOff: variantResult(off),
    },
    summary: { outputs: variantResult(outputs), ids: variantResult(ids), none: variantResult(bare) },
    calibration: {
      ...variantResult(calibrated),
      tokenScale,
      budgetTokensPerStep: budgetPerStep,
      stopAt,
      maxTokens,
      overspent: calibrated.filter((o) => o.billed > o.limit).length,
      budgetExhausted: calibrated.filter((o) => o.failure === 'budget_exhausted').length,
      maxSpendOfLimit: round(Math.max(0, ...calibrated.map((o) => o.billed / o.limit)), 3),
    },
    worstCase: {
      runs: compared.length,
      withinBound: compared.filter((o) => o.bound >= o.billed).length,
      unboundedDefinitions: compared.filter((o) => !o.bounded).length,
      tightness: ratios.length ? { mean: round(ratios.reduce((a, b) => a + b, 0) / ratios.length, 3), max: round(Math.max(...ratios), 3) } : null,
      maxBilled: maxBilled?.billed ?? 0,
      boundOfMaxBilled: maxBilled?.bound ?? 0,
    },
    machine,
    durationSeconds: round((performance.now() - started) / 1000, 1),
  };
}
