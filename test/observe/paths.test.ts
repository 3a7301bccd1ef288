import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, lastJson } from './cli.js';

interface Report {
  paths: Array<{ steps: string[]; status: string; tokens: number; worstCaseTokens: number }>;
  findings: Array<{ kind: string; message: string }>;
  reached: string[];
}

describe('stepwise test', { timeout: SPAWN_BUDGET_MS }, () => {
  it('walks every path of the shipped examples on the emulator and finds no problems', async () => {
    const invoice = await cli(['test', 'definitions/invoice-approval.yaml', '--json']);
    expect(invoice.code).toBe(0);
    const report = lastJson<Report>(invoice.stdout);
    expect(report.findings).toEqual([]);
    const ends = report.paths.map((p) => p.steps.join('>'));
    expect(ends).toEqual(
      expect.arrayContaining([
        'extract>validate>route>pay>done',
        'extract>validate>route>cfo_approval>escalated',
        'extract>validate>manual_review>rejected',
      ]),
    );
    expect(report.paths).toHaveLength(7);
    expect(report.paths.every((p) => p.status === 'done' && p.tokens > 0 && p.worstCaseTokens >= p.tokens)).toBe(true);

    for (const file of ['definitions/support-triage.yaml', 'definitions/lead-enrichment.ts']) {
      const result = await cli(['test', file]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain('no problems found');
    }
  });

  it('reports unreachable steps and paths that can exceed the budget, exiting 1', async () => {
    const result = await cli(['test', 'test/observe/fixtures/problems.yaml', '--input', '@definitions/invoice-approval.input.json', '--json']);
    expect(result.code).toBe(1);
    const report = lastJson<Report>(result.stdout);
    expect(report.findings.map((f) => f.kind).sort()).toEqual(['over_budget', 'unreachable']);
    expect(report.findings.find((f) => f.kind === 'unreachable')!.message).toContain('"orphan"');
  });
});
