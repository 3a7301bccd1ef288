/**
 * `stepwise bench --ablation`: the all-claude arm in variants, one per
 * issue-16 item, through the real CLI, engine and emulator, on a few
 * scenarios. Behaviours only: the section is written under its own key,
 * no run spends past `stopAt × budget` against a server counting 30 % more,
 * and `validate`'s bound is at least what every run billed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { HEAVY_BUDGET_MS } from '../budgets.js';
import { main, root } from '../cli/helpers.js';

const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'bench-ablation-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('stepwise bench --ablation', () => {
  it('writes the ablation under its own key, keeping the other keys; no overspend at token_scale 1.3; the bound holds for every run', { timeout: HEAVY_BUDGET_MS }, async () => {
    writeFileSync(join(out, 'latest.json'), JSON.stringify({ scenarios: 200, startup: { kept: true } }));
    const { stdout } = await run(
      process.execPath,
      [main, 'bench', '--ablation', '--ablation-scenarios', '4', '--profile', 'flaky', '--seed', '1', '--concurrency', '2', '--out', out, '--json'],
      { cwd: root, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
    );
    const written = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
    expect(written).toMatchObject({ scenarios: 200, startup: { kept: true } });
    const { ablation } = written;
    expect(ablation).toMatchObject({ scenarios: 4, profile: 'flaky', seed: 1 });
    for (const v of [ablation.toolErrorFeedback.feedbackOn, ablation.toolErrorFeedback.feedbackOff, ablation.summary.outputs, ablation.summary.ids, ablation.summary.none, ablation.calibration]) {
      expect(v.runs).toBe(4);
      expect(v.attemptsPerWorkflow).not.toBeNull();
    }
    // (1) Some documents carry a stale id the tool rejects: without a retry on that error no such run completes.
    const stale = ablation.toolErrorFeedback.staleIdScenarios;
    expect(stale).toBeGreaterThan(0);
    expect(ablation.toolErrorFeedback.feedbackOff.completed).toBeLessThanOrEqual(4 - stale);
    expect(ablation.toolErrorFeedback.feedbackOff.failures.tool_error).toBeGreaterThan(0);
    // (3) A server counting 30 % more: never past stopAt × budget.
    expect(ablation.calibration).toMatchObject({ tokenScale: 1.3, overspent: 0 });
    expect(ablation.calibration.maxSpendOfLimit).toBeLessThanOrEqual(1);
    // (4) The bound is a bound: ≥ the billed tokens of every compared run, and a number, not a lower one.
    expect(ablation.worstCase.runs).toBe(20);
    expect(ablation.worstCase).toMatchObject({ withinBound: 20, unboundedDefinitions: 0 });
    expect(ablation.worstCase.tightness.max).toBeLessThanOrEqual(1);
    expect(stdout).toContain('(4) `validate`\'s worst-case bound');
    const lines = stdout.trim().split('\n');
    expect(JSON.parse(lines[lines.length - 1]!)).toHaveProperty('ablation.calibration.overspent', 0);
  });
});
