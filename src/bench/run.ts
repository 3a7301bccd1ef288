/**
 * `stepwise bench` in one function: generate the scenarios, run the two model
 * arms against one emulator (same seed, same fault profile), measure engine
 * overhead (Stepwise, LangGraph.js, the raw limit) with model time zero, and
 * memory with parked runs; return one JSON-ready result.
 */
import { performance } from 'node:perf_hooks';
import { FLAKY_CALIBRATION, parseFaults, type FaultSpec } from '../emulator/faults.js';
import { countJsonTokens, countTokens } from '../model/tokens.js';
import { ablationBenchmark, type Ablation } from './ablation.js';
import type { FaultsDrawn } from './faults-drawn.js';
import { modelArm, runModelArms, tokenGap, type ModelArmResult, type TokenGap } from './model-arms.js';
import { DEFAULT_BENCH_POSTGRES, POSTGRES_SCENARIOS, postgresThroughput, type PostgresBench } from './postgres.js';
import { benchTargets, type Target } from './targets.js';
import { cpus, loadavg } from 'node:os';
import type { ScenarioOutcome } from './arms/types.js';
import { parkedRunsMemory, type ParkedMemory } from './memory.js';
import { promptCacheFigure, type PromptCacheFigure } from './prompt-cache.js';
import { compositionBenchmark, type CompositionBench } from './composition.js';
import { headToHead, type PairedRatios } from './head-to-head.js';
import { cachedResults, IN_FLIGHT, type Throughput } from './overhead.js';
import { generateScenarios, type Scenario } from './scenarios.js';
import { countBy, summarize, type Summary } from './stats.js';

export type { ModelArmResult, TokenGap } from './model-arms.js';

export interface BenchOptions {
  readonly scenarios?: number;
  /** A fault profile name or spec; default `flaky`. */
  readonly profile?: string;
  readonly seed?: number;
  /** Timed passes over the scenarios per overhead measurement (after one warm-up pass). */
  readonly passes?: number;
  /** Runs parked at a wait step for the memory measure; 0 skips it. */
  readonly parkedRuns?: number;
  /** Scenarios run at once in the model arms. */
  readonly concurrency?: number;
  /** Skip LangGraph.js (e.g. when it is not installed). */
  readonly skipLanggraph?: boolean;
  /** The PostgreSQL server of the PostgreSQL arm (default `STEPWISE_BENCH_POSTGRES`, else 127.0.0.1:5432/test); false skips it. */
  readonly postgres?: string | false;
  /** Scenarios the PostgreSQL arm runs per worker count (the first ones); default 60. */
  readonly postgresScenarios?: number;
  /** Scenarios of the all-claude ablation (the effect of each issue-16 item, src/bench/ablation.ts); default 40, 0 skips it. */
  readonly ablationScenarios?: number;
  readonly onProgress?: (message: string) => void;
  /** Called as each scenario of an arm finishes, for a live progress line. */
  readonly onTick?: (arm: string, done: number, total: number) => void;
}

/** The published figures the benchmark is compared with. */
export const reference = {
  stateless: { completionRate: 0.77, tokensPer5StepWorkflow: { mean: 12000, min: 3000, max: 35000 } },
  stateful: { completionRate: 0.94, tokensPer5StepWorkflow: { mean: 4800 } },
  measuredBeforeTheProject: { limitFull: 2900, limitNormal: 8200, langgraphSync: 740, langgraphDefaults: 1180 },
} as const;

type Nulls<T> = { readonly [K in keyof T]: null };

export type ArmResult = (ModelArmResult | Nulls<ModelArmResult>) & {
  /** Work steps per second at equal durability (SQLite synchronous=FULL; LangGraph durability 'sync'). */
  readonly stepsPerSecond: number | null;
  readonly overhead: Record<string, Throughput> | null;
};

export interface BenchResult {
  readonly scenarios: number;
  readonly profile: string;
  readonly seed: number;
  readonly faults: FaultSpec;
  readonly flakyCalibration: number;
  readonly arms: {
    readonly stateless: ModelArmResult & ArmResult & FaultsDrawn;
    readonly stepwise: ModelArmResult & ArmResult & FaultsDrawn & { readonly resumableFailures: number; readonly parkedRuns: ParkedMemory | null; readonly parkedRunsSqlite: ParkedMemory | null };
    /** Every step a `claude` step: the model fills every tool input (like with like against the stateless arm). */
    readonly stepwiseClaude: ModelArmResult & ArmResult & FaultsDrawn & { readonly resumableFailures: number };
    readonly langgraph: ArmResult;
    readonly limit: ArmResult;
  };
  /** Tokens per 5-step workflow (means): how much of the stateless-to-Stepwise gap is the engine and how much the design. */
  readonly tokenGap: TokenGap | null;
  /**
   * The overhead ratios the targets read, each of two arms measured in the same rounds (their passes alternating):
   * the median of the rounds' ratios, and each round's (absent in older result files).
   */
  readonly pairedRatios?: PairedRatios;
  /** N workers on the PostgreSQL store against raw transactions on the same server; null when not run. */
  readonly postgres: PostgresBench | null;
  /** The all-claude arm in variants, one per issue-16 item; null when skipped (absent in older result files). */
  readonly ablation?: Ablation | null;
  /** The machine the figures come from (it may be shared and loaded: compare ratios within one run). */
  readonly machine: { readonly cpus: number; readonly loadAverage1m: number; readonly node: string };
  readonly payloads: { readonly toolResultTokens: Summary | null; readonly documentTokens: Summary | null; readonly stepsPerScenario: Record<string, number>; readonly byDomain: Record<string, number> };
  readonly reference: typeof reference;
  /** Billed input of 20 items sharing a 2,000-token prefix, with prompt caching against without. */
  readonly promptCache: PromptCacheFigure;
  /** `map` wall time against sequential items, CPU per item against per plain step, prompt caching across a map. */
  readonly composition: CompositionBench;
  readonly targets: readonly Target[];
  readonly durationSeconds: number;
}

const noModel: Nulls<ModelArmResult> = {
  runs: null, completed: null, completionRate: null, failures: null, tokensPerWorkflow: null, tokensPer5StepWorkflow: null,
  inputTokensPerWorkflow: null, outputTokensPerWorkflow: null, inputTokensPer5StepWorkflow: null, outputTokensPer5StepWorkflow: null,
  tokensBySize: null, tokensPer5StepExtremes: null, modelCallsPerWorkflow: null, httpRequestsPerWorkflow: null,
};

function payloads(scenarios: readonly Scenario[]): BenchResult['payloads'] {
  const results: number[] = [];
  for (const s of scenarios) for (const r of cachedResults(s).values()) results.push(countJsonTokens(r));
  return {
    toolResultTokens: summarize(results),
    documentTokens: summarize(scenarios.map((s) => countTokens(s.document))),
    stepsPerScenario: countBy(scenarios.map((s) => `${s.steps.length}`)),
    byDomain: countBy(scenarios.map((s) => s.domain)),
  };
}

/**
 * Runs the whole benchmark.
 * @example
 * const result = await runBenchmark({ scenarios: 200, profile: 'flaky', seed: 1 });
 * result.arms.stepwise.completionRate; // e.g. 1
 */
export async function runBenchmark(options: BenchOptions = {}): Promise<BenchResult> {
  const started = performance.now();
  const count = options.scenarios ?? 200;
  const profile = options.profile ?? 'flaky';
  const seed = options.seed ?? 1;
  const passes = options.passes ?? 5;
  const concurrency = options.concurrency ?? 4;
  const progress = options.onProgress ?? (() => {});
  const faults = parseFaults(profile);
  const scenarios = generateScenarios(seed, count);

  progress(`${count} scenarios, profile ${profile}, seed ${seed}`);
  const machine = { cpus: cpus().length, loadAverage1m: Math.round((loadavg()[0] ?? 0) * 10) / 10, node: process.version };
  const armsRun = await runModelArms(scenarios, { faults, seed, concurrency, onProgress: progress, ...(options.onTick ? { onTick: options.onTick } : {}) });
  const { stateless, stepwise, stepwiseClaude } = armsRun.outcomes;
  const { stateless: statelessFaults, stepwise: stepwiseFaults, stepwiseClaude: stepwiseClaudeFaults } = armsRun.faults;

  const ablationCount = options.ablationScenarios ?? 40;
  const ablation = ablationCount > 0 ? await ablationBenchmark({ scenarios: ablationCount, profile, seed, concurrency, onProgress: progress }) : null;

  const overhead = await headToHead(scenarios, passes, { langgraph: !options.skipLanggraph, onProgress: progress });
  const sw = overhead.stepwise;
  const lg = overhead.langgraph;
  const { sqliteFull: limitFull, sqliteFullConcurrent: limitFullConcurrent, sqliteNormal: limitNormal } = overhead.limit;
  let postgres: PostgresBench | null = null;
  if (options.postgres !== false) {
    const pgScenarios = scenarios.slice(0, options.postgresScenarios ?? POSTGRES_SCENARIOS);
    progress(`overhead: PostgreSQL store, 1/2/4 workers on ${pgScenarios.length} scenarios, against raw one-statement transactions`);
    postgres = await postgresThroughput(pgScenarios, { url: options.postgres ?? process.env['STEPWISE_BENCH_POSTGRES'] ?? DEFAULT_BENCH_POSTGRES, claimSamples: Math.min(20, pgScenarios.length) });
  }
  const parkedCount = options.parkedRuns ?? 10_000;
  let parked: ParkedMemory | null = null;
  let parkedSqlite: ParkedMemory | null = null;
  if (parkedCount > 0 && scenarios[0]) {
    const parkedScenario = scenarios.find((s) => s.steps.length === 5) ?? scenarios[0];
    progress(`memory: ${parkedCount} runs parked at a wait step (memory store)`);
    parked = await parkedRunsMemory(parkedScenario, parkedCount);
    progress(`memory: ${parkedCount} runs parked at a wait step (SQLite store)`);
    parkedSqlite = await parkedRunsMemory(parkedScenario, parkedCount, 'sqlite');
  }

  progress('prompt cache: 20 items sharing a 2,000-token prefix, cached and not (emulator)');
  const promptCache = await promptCacheFigure();
  const composition = await compositionBenchmark({ onProgress: progress });

  const statelessArm = modelArm(stateless);
  const stepwiseArm = modelArm(stepwise);
  const stepwiseClaudeArm = modelArm(stepwiseClaude);
  const resumable = (outcomes: readonly ScenarioOutcome[]) => outcomes.filter((o) => !o.completed && o.resumable === true).length;
  const resumableFailures = resumable(stepwise);
  const targets = benchTargets({
    profile,
    inFlight: IN_FLIGHT,
    stateless: statelessArm,
    stepwise: stepwiseArm,
    stepwiseClaude: stepwiseClaudeArm,
    stepwiseOverhead: sw,
    langgraph: lg,
    paired: overhead.paired,
    limit: { sqliteFull: limitFull, sqliteFullConcurrent: limitFullConcurrent, sqliteNormal: limitNormal },
    postgres,
    parkedMemory: parked,
    parkedSqlite,
    promptCache,
    composition,
  });

  return {
    scenarios: count,
    profile,
    seed,
    faults,
    flakyCalibration: FLAKY_CALIBRATION,
    arms: {
      stateless: { ...statelessArm, ...statelessFaults, stepsPerSecond: null, overhead: null },
      stepwise: {
        ...stepwiseArm,
        ...stepwiseFaults,
        stepsPerSecond: sw.sqliteFullConcurrent.stepsPerSecond,
        overhead: { memory: sw.memory, sqliteFull: sw.sqliteFull, sqliteFullConcurrent: sw.sqliteFullConcurrent, sqliteNormal: sw.sqliteNormal },
        resumableFailures,
        parkedRuns: parked,
        parkedRunsSqlite: parkedSqlite,
      },
      stepwiseClaude: { ...stepwiseClaudeArm, ...stepwiseClaudeFaults, stepsPerSecond: null, overhead: null, resumableFailures: resumable(stepwiseClaude) },
      langgraph: {
        ...noModel,
        stepsPerSecond: lg?.syncFullConcurrent.stepsPerSecond ?? null,
        overhead: lg,
      },
      limit: { ...noModel, stepsPerSecond: limitFull.stepsPerSecond, overhead: { sqliteFull: limitFull, sqliteFullConcurrent: limitFullConcurrent, sqliteNormal: limitNormal } },
    },
    tokenGap: tokenGap(statelessArm.tokensPer5StepWorkflow, stepwiseClaudeArm.tokensPer5StepWorkflow, stepwiseArm.tokensPer5StepWorkflow),
    pairedRatios: overhead.paired,
    postgres,
    ablation,
    machine,
    payloads: payloads(scenarios),
    promptCache,
    composition,
    reference,
    targets,
    durationSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

