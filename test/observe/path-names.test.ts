/**
 * How `stepwise test` names a path, in its lines and in its findings: by its decisions (a choice's branch, a
 * wait's event, an error route) and the step it ends at, so two paths through the same steps that differ in a
 * decision never read alike (their findings said `path ask → broken → done` twice), and a path with no decision
 * at all (a child definition that is one final step) is just that step (it printed `✓  → fine`). Through the
 * built CLI on the emulator.
 */
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, lastJson } from './cli.js';

describe('stepwise test: path names', { timeout: SPAWN_BUDGET_MS }, () => {
  it('two failing paths through the same steps, differing in the event a wait gets: each finding names its decisions', async () => {
    const result = await cli(['test', 'test/observe/fixtures/path-names/same-steps.yaml']);
    expect(result.code).toBe(1);
    const findings = result.stdout.split('\n').filter((line) => line.startsWith('path_failed:'));
    expect(findings).toEqual([
      'path_failed: path ask [YES] → broken → done failed: flaky: flaky failed for always',
      'path_failed: path ask [NO] → broken → done failed: flaky: flaky failed for always',
    ]);
    expect(result.stdout).toContain('  ✗ ask [YES] → broken → done: failed');
    expect(result.stdout).toContain('  ✗ ask [NO] → broken → done: failed');
    const json = lastJson<{ findings: Array<{ message: string }> }>((await cli(['test', 'test/observe/fixtures/path-names/same-steps.yaml', '--json'])).stdout);
    expect(new Set(json.findings.map((f) => f.message)).size).toBe(2);
  });

  it('a child path with no decision is printed as its one step', async () => {
    const result = await cli(['test', 'test/observe/fixtures/path-names/no-decisions.yaml']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('\n    ✓ fine: done, 0 tokens (worst case 0)\n');
    expect(result.stdout).not.toContain(' → fine');
    expect(result.stdout).toContain('  ✓ sub → done: done');
  });
});
