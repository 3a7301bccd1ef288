import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinition } from '../../src/definition/load.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { resolveModel } from '../../src/model/client.js';
import { testPaths } from '../../src/observe/paths.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, lastJson } from './cli.js';

interface Report {
  paths: Array<{ steps: string[]; status: string; tokens: number; worstCaseTokens: number; trail: Array<{ step: string; status: string }>; divergence: string | null }>;
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

    // The timeout edge reads as the diagram draws it ("timeout"), not as the machine event.
    const text = await cli(['test', 'definitions/invoice-approval.yaml']);
    expect(text.stdout).toContain('cfo_approval [timeout] → escalated');
    expect(text.stdout).not.toContain('wait.timeout');

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

  it("forces a path's decisions in its own run, not in child runs whose steps have the same ids", async () => {
    // A definition that starts itself, bounded by a choice: each nested run takes its own branch.
    const recursive = await cli(['test', 'test/observe/fixtures/child-decisions/countdown.yaml', '--input', '{"n":2}']);
    expect(recursive.code, recursive.stdout + recursive.stderr).toBe(0);
    expect(recursive.stdout).toContain('✓ check [branch 1] → again → up: done');
    expect(recursive.stdout).toContain('no problems found');
    // The parent's path forces its "pick" to branch 1; the child's "pick" takes branch 0, as in a real run.
    const nested = await cli(['test', 'test/observe/fixtures/child-decisions/outer.yaml', '--input', '{"skip":false}']);
    expect(nested.stdout).toContain('✓ pick [branch 1] → sub → done: done');
    expect(nested.stdout).not.toContain('path_failed: path pick → sub → done');
    // Only the child's own walk, which forces its failing branch, finds a problem.
    expect(nested.stdout).toContain('path_failed: in the child runs of "sub" (inner): path pick [branch 1] → broken → fine failed');
    expect(nested.code).toBe(1);
  });

  it('reports a path its run did not follow, exiting 1: a model step that fails on its own takes onError on a path that has it succeed', async () => {
    // Every model call is refused: "classify" fails whatever the path says, and the run goes to "fallback".
    const args = ['test', 'test/observe/fixtures/analyze-error.yaml', '--input', '{"text":"my invoice is wrong"}', '--faults', 'bad_request=1'];
    const text = await cli(args);
    expect(text.code, text.stdout + text.stderr).toBe(1);
    expect(text.stdout).toMatch(/✗ classify → done: done, 0 tokens \(worst case \d+\), not followed\n/);
    expect(text.stdout).toContain('✓ classify [error] → fallback: done');
    expect(text.stdout).toContain('not_followed: path classify → done was not followed: the path has classify succeed, but the run went classify (failed) → fallback');
    const report = lastJson<Report>((await cli([...args, '--json'])).stdout);
    const passed = report.paths.find((p) => p.steps.join('>') === 'classify>done')!;
    expect(passed).toMatchObject({ status: 'done', divergence: 'the path has classify succeed, but the run went classify (failed) → fallback' });
    expect(passed.trail).toEqual([
      { step: 'classify', status: 'failed' },
      { step: 'fallback', status: 'done' },
    ]);
    expect(report.findings.map((f) => f.kind)).toEqual(['not_followed']);
  });

  it("forces a `workflow` step's error route: its child is not started", async () => {
    const result = await cli(['test', 'test/observe/fixtures/child-error/parent.yaml', '--input', '{"text":"my invoice is wrong"}']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('✓ sub [error] → recovered: done, 0 tokens');
    expect(result.stdout).toContain('no problems found');
  });

  it("reports the input's own run when it fails on a route no path takes: a loop its limit stops", async () => {
    const result = await cli(['test', 'test/observe/fixtures/loop/loop.yaml']);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    // The one simple path forces the loop's exit; a real run never gets there.
    expect(result.stdout).toContain('✓ inc → check [branch 1] → done: done');
    expect(result.stdout).toContain(
      `input_failed: the input's own run (no decision forced) failed on a route no path takes: inc (done) → check (done) → inc (done) → check (done) → inc (done) → check (done) → inc (done) → check (done) → inc (failed): step "inc" was visited more than 4 times`,
    );
    const bounded = await cli(['test', 'test/observe/fixtures/loop/bounded.yaml']);
    expect(bounded.code, bounded.stdout + bounded.stderr).toBe(0);
    expect(bounded.stdout).toContain('no problems found');
  });
});

describe('testPaths drives the real engine', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 1 });
  });
  afterAll(async () => {
    await emu.close();
  });
  const model = () => resolveModel({ baseURL: emu.url, apiKey: 'x', maxRetries: 0 });
  const fixture = (name: string) => loadDefinition(path.join(import.meta.dirname, 'fixtures', name));

  it('reports a wait timeout the workflow deadline makes impossible (only the real driver checks the deadline first)', async () => {
    const definition = await fixture('deadline.yaml');
    const report = await testPaths(definition.workflow, { input: {}, tools: definition.tools, model: model() });
    const byEnd = new Map(report.paths.map((p) => [p.steps[p.steps.length - 1], p]));
    expect([...byEnd.keys()].sort()).toEqual(['done', 'escalated']);
    expect(byEnd.get('done')).toMatchObject({ status: 'done', error: null, decisions: [{ step: 'check', take: 'done' }, { step: 'approval', take: 'APPROVE' }] });
    expect(byEnd.get('escalated')).toMatchObject({ status: 'failed', decisions: [{ step: 'check', take: 'done' }, { step: 'approval', take: 'wait.timeout' }] });
    expect(byEnd.get('escalated')!.error).toBe('the workflow deadline passed');
    expect(report.findings).toEqual([{ kind: 'path_failed', message: 'path check → approval [timeout] → escalated failed: the workflow deadline passed' }]);
  });

  it('forces an error route by failing the step: an analyze step whose model call is refused takes onError', async () => {
    const definition = await fixture('analyze-error.yaml');
    const report = await testPaths(definition.workflow, { input: { text: 'my invoice is wrong' }, tools: definition.tools, model: model() });
    expect(report.findings).toEqual([]);
    const routes = report.paths.map((p) => ({ steps: p.steps.join('>'), status: p.status, decisions: p.decisions.map((d) => `${d.step}:${d.take}`) }));
    expect(routes).toEqual(
      expect.arrayContaining([
        { steps: 'classify>done', status: 'done', decisions: ['classify:done'] },
        { steps: 'classify>fallback', status: 'done', decisions: ['classify:error'] },
      ]),
    );
    const failed = report.paths.find((p) => p.steps.includes('fallback'))!;
    const passed = report.paths.find((p) => p.steps.includes('done'))!;
    expect(passed.tokens).toBeGreaterThan(0);
    expect(failed.tokens).toBe(0); // the refused call used nothing
    expect(failed.worstCaseTokens).toBe(passed.worstCaseTokens);
  });

  it('sends a wait inside a parallel branch its event, or lets its timeout come, as a top-level wait', async () => {
    const definition = await fixture('branch-wait.yaml');
    const report = await testPaths(definition.workflow, { input: { text: 'my invoice is wrong' }, tools: definition.tools, model: model() });
    expect(report.findings).toEqual([]);
    const takes = report.paths.map((p) => p.decisions.filter((d) => d.step === 'gate_b').map((d) => d.take).join()).sort();
    expect(takes).toEqual(['GO', 'wait.timeout']);
    expect(report.paths.every((p) => p.status === 'done' && p.tokens > 0)).toBe(true);
  });

  it('drives every branch of the invoice example with the real tools and decisions', async () => {
    const definition = await loadDefinition('definitions/invoice-approval.yaml');
    const input = JSON.parse(readFileSync('definitions/invoice-approval.input.json', 'utf8')) as unknown;
    const report = await testPaths(definition.workflow, { input, tools: definition.tools, model: model() });
    expect(report.findings).toEqual([]);
    const blocked = report.paths.find((p) => p.decisions.some((d) => d.step === 'route' && d.take === 'branch 0'));
    expect(blocked).toMatchObject({ status: 'done', steps: ['extract', 'validate', 'route', 'rejected'] });
    const timedOut = report.paths.find((p) => p.decisions.some((d) => d.take === 'wait.timeout'));
    expect(timedOut).toMatchObject({ status: 'done', steps: ['extract', 'validate', 'route', 'cfo_approval', 'escalated'] });
  });

  it('reports a path its run did not follow, with where it left the path', async () => {
    const faulty = await startEmulator({ seed: 1, faults: 'bad_request=1' });
    try {
      const definition = await fixture('analyze-error.yaml');
      const report = await testPaths(definition.workflow, {
        input: { text: 'my invoice is wrong' },
        tools: definition.tools,
        model: resolveModel({ baseURL: faulty.url, apiKey: 'x', maxRetries: 0 }),
      });
      const passed = report.paths.find((p) => p.steps.join('>') === 'classify>done')!;
      const failed = report.paths.find((p) => p.steps.join('>') === 'classify>fallback')!;
      // The run ended done, but not the path's way: its step failed by itself and the run took onError.
      expect(passed).toMatchObject({ status: 'done', divergence: 'the path has classify succeed, but the run went classify (failed) → fallback' });
      expect(failed).toMatchObject({ status: 'done', divergence: null });
      expect(report.findings).toEqual([
        { kind: 'not_followed', message: 'path classify → done was not followed: the path has classify succeed, but the run went classify (failed) → fallback' },
      ]);
    } finally {
      await faulty.close();
    }
  });

  it("runs the input's own route with nothing forced, and reports it when it fails where no path went", async () => {
    const loop = await fixture('loop/loop.yaml');
    const report = await testPaths(loop.workflow, { input: {}, tools: loop.tools, model: model() });
    expect(report.paths.map((p) => [p.steps.join('>'), p.status, p.divergence])).toEqual([['inc>check>done', 'done', null]]);
    expect(report.unforced).toMatchObject({ status: 'failed', error: 'step "inc" was visited more than 4 times' });
    expect(report.unforced!.trail.map((e) => e.step).join('>')).toBe('inc>check>inc>check>inc>check>inc>check>inc');
    expect(report.findings.map((f) => f.kind)).toEqual(['input_failed']);
    // A loop that ends within its limit: the input's own run is done, nothing to report.
    const bounded = await fixture('loop/bounded.yaml');
    const fine = await testPaths(bounded.workflow, { input: {}, tools: bounded.tools, model: model() });
    expect(fine.unforced).toMatchObject({ status: 'done' });
    expect(fine.findings).toEqual([]);
  });
});
