import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../../src/bench/check.js';
import { generateScenarios } from '../../src/bench/scenarios.js';
import { templates } from '../../src/bench/templates.js';

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
  it('runs a handful of scenarios and keeps the JSON contract', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'bench', '--scenarios', '8', '--profile', 'flaky', '--seed', '3', '--parked', '200', '--passes', '1', '--out', out, '--json'],
      { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
    );
    const lines = stdout.trim().split('\n');
    const result = JSON.parse(lines[lines.length - 1]!);
    expect(result).toMatchObject({ scenarios: 8, profile: 'flaky', seed: 3 });
    expect(Object.keys(result.arms).sort()).toEqual(['langgraph', 'limit', 'stateless', 'stepwise']);
    for (const arm of ['stateless', 'stepwise']) {
      const a = result.arms[arm];
      expect(a.completionRate).toBeGreaterThanOrEqual(0);
      expect(a.completionRate).toBeLessThanOrEqual(1);
      for (const key of ['tokensPerWorkflow', 'tokensPer5StepWorkflow']) expect(Object.keys(a[key]).sort()).toEqual(['max', 'mean', 'min', 'p50', 'p95']);
      expect(typeof a.failures).toBe('object');
    }
    expect(result.arms.stateless.stepsPerSecond).toBeNull();
    for (const arm of ['stepwise', 'langgraph', 'limit']) expect(result.arms[arm].stepsPerSecond).toBeGreaterThan(0);
    for (const arm of ['langgraph', 'limit']) {
      expect(result.arms[arm].completionRate).toBeNull();
      expect(result.arms[arm].tokensPer5StepWorkflow).toBeNull();
    }
    expect(readFileSync(join(out, 'latest.svg'), 'utf8')).toContain('<svg');
    expect(JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')).scenarios).toBe(8);
  }, 120_000);
});
