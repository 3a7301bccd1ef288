import { beforeAll, describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, invoice, lastJson, tempStore } from './cli.js';

interface Row {
  step: string | null;
  event: string;
  attempt: number;
  durationMs: number | null;
  inputTokens: number;
  outputTokens: number;
  usd: number;
  error: { kind: string } | null;
  failurePoint: boolean;
}

describe('show, list and stats on the shipped examples', { timeout: SPAWN_BUDGET_MS }, () => {
  const store = tempStore();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const runs = {
      waiting: ['run', ...invoice],
      triage: ['run', 'definitions/support-triage.yaml', '--input', '@definitions/support-triage.input.json'],
      lead: ['run', 'definitions/lead-enrichment.ts', '--input', '@definitions/lead-enrichment.input.json'],
      failed: ['run', ...invoice, '--faults', 'invalid_input=1', '--max-retries', '0'],
    };
    for (const [name, args] of Object.entries(runs)) {
      const result = await cli([...args, '--store', store, '--emulator', '--json']);
      ids[name] = lastJson<{ runId: string }>(result.stdout).runId;
    }
  }, SPAWN_BUDGET_MS);

  it('show draws the timeline and marks the failure point; --json gives the same rows', async () => {
    const text = await cli(['show', ids['failed']!, '--store', store]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('◀ failure point');
    expect(text.stdout).toMatch(/3 attempts, 2 retries, 3 failed/);

    const json = lastJson<{ timeline: { rows: Row[]; totals: { retries: number; inputTokens: number } }; usage: { inputTokens: number } }>(
      (await cli(['show', ids['failed']!, '--store', store, '--json'])).stdout,
    );
    const attempts = json.timeline.rows.filter((r) => r.step === 'extract' && r.event === 'failed');
    expect(attempts.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(attempts.every((r) => r.inputTokens > 0 && r.outputTokens > 0 && r.usd > 0 && r.durationMs !== null)).toBe(true);
    expect(json.timeline.rows.filter((r) => r.failurePoint)).toHaveLength(1);
    expect(attempts[2]!.failurePoint).toBe(true);
    expect(json.timeline.totals.retries).toBe(2);
    expect(json.timeline.totals.inputTokens).toBe(json.usage.inputTokens);

    const done = lastJson<{ timeline: { rows: Row[] } }>((await cli(['show', ids['triage']!, '--store', store, '--json'])).stdout);
    expect(done.timeline.rows.map((r) => r.event)).toEqual(expect.arrayContaining(['completed', 'choice', 'finished']));
    expect(done.timeline.rows.some((r) => r.failurePoint)).toBe(false);
  });

  it('list filters by status and workflow, with totals', async () => {
    const done = JSON.parse((await cli(['list', '--store', store, '--status', 'done', '--json'])).stdout) as Array<{ runId: string }>;
    expect(done.map((r) => r.runId).sort()).toEqual([ids['triage'], ids['lead']].sort());
    const text = await cli(['list', '--store', store, '--workflow', 'invoice-approval']);
    expect(text.stdout).toMatch(/2 runs: 1 waiting, 1 failed/);
  });

  it('stats gives completion rate, tokens and cost per run, failures by kind', async () => {
    const stats = lastJson<{
      runs: number;
      completionRate: number;
      tokensPerRun: { mean: number; max: number };
      totalUsd: number;
      failuresByKind: Record<string, number>;
      attemptFailuresByKind: Record<string, number>;
      workflows: Record<string, { runs: number; completionRate: number | null }>;
    }>((await cli(['stats', '--store', store, '--json'])).stdout);
    expect(stats.runs).toBe(4);
    expect(stats.completionRate).toBeCloseTo(2 / 3);
    expect(stats.tokensPerRun.max).toBeGreaterThan(0);
    expect(stats.totalUsd).toBeGreaterThan(0);
    expect(stats.failuresByKind).toEqual({ retries_exhausted: 1 });
    expect(stats.attemptFailuresByKind['invalid_data']).toBe(3);
    expect(stats.workflows['invoice-approval']).toMatchObject({ runs: 2, completionRate: 0 });
    const text = await cli(['stats', '--store', store]);
    expect(text.stdout).toContain('completion 66.7 %');
  });
});
