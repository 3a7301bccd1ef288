import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../../src/bench/check.js';
import { generateScenarios } from '../../src/bench/scenarios.js';
import { templates } from '../../src/bench/templates.js';
import { HEAVY_BUDGET_MS } from '../budgets.js';
import { main, root } from '../cli/helpers.js';

const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('bench scenarios', () => {
  it('covers four domains with three templates each, in 3, 5 and 10 steps', () => {
    const domains = new Set(templates.map((t) => t.domain));
    expect(domains.size).toBe(4);
    for (const d of domains) expect(templates.filter((t) => t.domain === d).length).toBeGreaterThanOrEqual(3);
    const sizes = new Set(generateScenarios(1, 40).map((s) => s.steps.length));
    expect([...sizes].sort((a, b) => a - b)).toEqual([3, 5, 10]);
  });

  it('is deterministic, and the completion check rejects a missing step and a duplicate side effect', () => {
    const [a] = generateScenarios(7, 1);
    const [b] = generateScenarios(7, 1);
    expect(a).toEqual(b);
    const scenario = generateScenarios(1, 10)[7]!;
    const ledger = scenario.steps.map((s) => ({ tool: s.tool, input: { ...s.expectedInput, ...Object.fromEntries(s.inputs.filter((f) => f.from === 'free').map((f) => [f.name, 'x'])) } }));
    expect(checkLedger(scenario, ledger)).toEqual({ ok: true });
    expect(checkLedger(scenario, ledger.slice(0, -1))).toMatchObject({ ok: false, kind: 'step_missing' });
    const last = ledger[ledger.length - 1]!;
    expect(checkLedger(scenario, [...ledger, last])).toMatchObject({ ok: false, kind: 'duplicate_side_effect' });
  });
});

describe('stepwise bench --json', () => {
  it('on a fault-free profile Stepwise completes every scenario with fewer tokens than the stateless arm, keeping the JSON contract', { timeout: HEAVY_BUDGET_MS }, async () => {
    const { stdout } = await run(
      process.execPath,
      [main, 'bench', '--scenarios', '8', '--profile', 'none', '--seed', '3', '--parked', '200', '--passes', '1', '--ablation-scenarios', '2', '--out', out, '--json'],
      { cwd: root, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
    );
    const lines = stdout.trim().split('\n');
    const result = JSON.parse(lines[lines.length - 1]!);
    expect(result).toMatchObject({ scenarios: 8, profile: 'none', seed: 3, faults: {} });
    expect(Object.keys(result.arms).sort()).toEqual(['langgraph', 'limit', 'stateless', 'stepwise', 'stepwiseClaude']);
    const { stateless, stepwise, stepwiseClaude } = result.arms;
    // With no faults injected, every scenario must finish under Stepwise, each one checked against its ledger.
    expect(stepwise).toMatchObject({ runs: 8, completed: 8, completionRate: 1, failures: {}, resumableFailures: 0 });
    expect(stateless.runs).toBe(8);
    // Every step a claude step: the model fills every input, so more model calls than the mixed arm, still all complete.
    expect(stepwiseClaude).toMatchObject({ runs: 8, completed: 8, completionRate: 1, failures: {}, resumableFailures: 0 });
    expect(stepwiseClaude.modelCallsPerWorkflow.mean).toBeGreaterThan(stepwise.modelCallsPerWorkflow.mean);
    for (const arm of [stateless, stepwise, stepwiseClaude]) {
      expect(arm).toMatchObject({ faultsPerWorkflow: 0, faultsDrawn: {} });
      expect(arm.emulatorRequests).toBeGreaterThanOrEqual(8);
    }
    expect(stepwiseClaude.emulatorRequests).toBeGreaterThan(stepwise.emulatorRequests);
    // The gap splits into the engine's part and the design's part.
    expect(result.tokenGap.engine + result.tokenGap.design).toBe(result.tokenGap.stateless - result.tokenGap.stepwise);
    // The stateless arm resends the whole transcript every turn; Stepwise sends one step's context.
    expect(stateless.tokensPerWorkflow.mean).toBeGreaterThan(stepwise.tokensPerWorkflow.mean);
    expect(stateless.tokensPer5StepWorkflow.mean).toBeGreaterThan(stepwise.tokensPer5StepWorkflow.mean);
    for (const arm of [stateless, stepwise]) {
      for (const key of ['tokensPerWorkflow', 'tokensPer5StepWorkflow']) expect(Object.keys(arm[key]).sort()).toEqual(['max', 'mean', 'min', 'p50', 'p95']);
      expect(arm.tokensPerWorkflow.min).toBeGreaterThan(0);
    }
    // The compared arms ran in the same rounds: each target reads the median of its rounds' ratios (one round here).
    for (const key of ['cpuMemoryVsLimitNormal', 'sqliteVsLimitOne', 'sqliteVsLimitMany', 'sqliteVsLanggraphOne', 'sqliteVsLanggraphMany']) {
      expect(result.pairedRatios[key].rounds).toHaveLength(1);
      expect(result.pairedRatios[key].median).toBeGreaterThan(0);
    }
    const targetValue = (name: string) => result.targets.find((t: { name: string }) => t.name.startsWith(name))?.value;
    expect(targetValue('steps/s SQLite FULL vs raw limit FULL, one run at a time')).toBe(result.pairedRatios.sqliteVsLimitOne.median);
    expect(targetValue('CPU µs per step, Stepwise memory store vs raw limit NORMAL')).toBe(result.pairedRatios.cpuMemoryVsLimitNormal.median);
    expect(targetValue('steps/s SQLite FULL vs LangGraph sync (')).toBe(result.pairedRatios.sqliteVsLanggraphMany.median);
    expect(stateless.stepsPerSecond).toBeNull();
    for (const arm of ['stepwise', 'langgraph', 'limit']) expect(result.arms[arm].stepsPerSecond).toBeGreaterThan(0);
    for (const arm of ['langgraph', 'limit']) {
      expect(result.arms[arm].completionRate).toBeNull();
      expect(result.arms[arm].tokensPer5StepWorkflow).toBeNull();
    }
    // 20 items sharing a 2,000-token prefix: billed input (writes 1.25×, reads 0.1×) against no caching.
    expect(result.promptCache).toMatchObject({ items: 20 });
    expect(result.promptCache.prefixTokens).toBeGreaterThanOrEqual(2000);
    expect(result.promptCache.ratio).toBeLessThanOrEqual(0.3);
    // The composition figures: a map against sequential items (SQLite and memory), CPU per item, caching across a map; and their targets.
    expect(Object.keys(result.composition).sort()).toEqual(['itemOverhead', 'mapCache', 'mapWall', 'mapWallMemory']);
    expect(result.composition.mapCache.billedCached).toBeLessThan(result.composition.mapCache.billedUncached);
    expect(result.targets.filter((t: { name: string }) => t.name.startsWith('map of') || t.name.includes('per map item'))).toHaveLength(4);
    expect(result.targets.find((t: { name: string }) => t.name.startsWith('20 items sharing'))).toMatchObject({ met: true });
    expect(result.arms.limit.overhead.sqliteFullConcurrent.stepsPerSecond).toBeGreaterThan(0);
    expect(result.arms.stepwise.parkedRunsSqlite).toMatchObject({ runs: 200, store: 'sqlite' });
    if (result.postgres.skipped === null) expect(result.postgres.byWorkers.map((w: { workers: number }) => w.workers)).toEqual([1, 2, 4]);
    else expect(result.postgres.skipped).toMatch(/not reachable/);
    // Every target carries its goal and whether it was met; the like-with-like ratios are there in both modes.
    const names = result.targets.map((t: { name: string }) => t.name);
    for (const name of ['steps/s SQLite FULL vs raw limit FULL, one run at a time', 'steps/s SQLite FULL vs LangGraph sync, one run at a time', 'all-claude Stepwise: tokens per 5-step workflow vs stateless', '10,000 waiting runs (SQLite store)']) {
      expect(names).toContain(name);
    }
    for (const t of result.targets) expect([true, false, null]).toContain(t.met);
    // The all-claude ablation rides along on its own scenarios (the first 2 here).
    expect(result.ablation).toMatchObject({ scenarios: 2, profile: 'none', seed: 3, calibration: { overspent: 0 } });
    expect(result.ablation.worstCase.withinBound).toBe(result.ablation.worstCase.runs);
    expect(readFileSync(join(out, 'latest.svg'), 'utf8')).toContain('<svg');
    expect(JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')).scenarios).toBe(8);
  });
});
