/**
 * `stepwise bench --tokens`: the three model arms alone, with the head-to-head's
 * targets and the two ends of the spread target, written into latest.json
 * under "tokens" with the other keys kept.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { main, root } from '../cli/helpers.js';

const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'bench-tokens-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('stepwise bench --tokens', () => {
  it('runs only the model arms: completion, tokens, the spread and its two ends by scenario, into latest.json under "tokens"', { timeout: SPAWN_BUDGET_MS }, async () => {
    writeFileSync(join(out, 'latest.json'), JSON.stringify({ scenarios: 200, targets: [{ name: 'kept' }] }));
    const { stdout } = await run(process.execPath, [main, 'bench', '--tokens', '--scenarios', '8', '--profile', 'none', '--seed', '3', '--out', out, '--json'], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const lines = stdout.trim().split('\n');
    const { tokens } = JSON.parse(lines[lines.length - 1]!);
    expect(tokens).toMatchObject({ scenarios: 8, profile: 'none', seed: 3 });
    const { stateless, stepwise, stepwiseClaude } = tokens.arms;
    for (const arm of [stepwise, stepwiseClaude]) expect(arm).toMatchObject({ runs: 8, completed: 8, completionRate: 1, faultsPerWorkflow: 0 });
    expect(stateless.runs).toBe(8);
    // The two ends of the spread target, named by scenario, with their model calls; their ratio is the target's value.
    const ends = stepwise.tokensPer5StepExtremes;
    expect(ends.min.tokens).toBe(stepwise.tokensPer5StepWorkflow.min);
    expect(ends.max.tokens).toBe(stepwise.tokensPer5StepWorkflow.max);
    expect(ends.min.scenario).toMatch(/^[a-z]+-[a-z]+-\d{4}$/);
    expect(ends.max.modelCalls).toBeGreaterThan(0);
    const spread = tokens.targets.find((t: { name: string }) => t.name === 'max/min tokens over 5-step workflows');
    expect(spread.value).toBe(ends.spread);
    expect(tokens.targets.map((t: { name: string }) => t.name)).toHaveLength(6);
    expect(tokens.tokenGap.engine + tokens.tokenGap.design).toBe(tokens.tokenGap.stateless - tokens.tokenGap.stepwise);
    expect(stdout).toContain('| cheapest / dearest 5-step workflow: tokens (scenario, model calls), max/min |');
    // The rest of latest.json is kept; a full run's targets are not touched.
    const latest = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
    expect(latest).toMatchObject({ scenarios: 200, targets: [{ name: 'kept' }], tokens: { scenarios: 8 } });
  });
});
