/** Output people can read and machines can parse: ISO timestamps in --json, list's header, show's columns, progress durations. */
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, example, lastJson, tempStore } from './helpers.js';

const isoOf = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

interface Row { step: string | null; event: string; durationMs: number | null; visit: number }

describe('CLI output', { timeout: SPAWN_BUDGET_MS }, () => {
  it('gives each epoch-ms field of --json an ISO 8601 twin, heads list, counts "1 run", and times steps as show does', async () => {
    const store = [...tempStore(), '--emulator'];
    const started = await cli(['run', ...example('invoice-approval.yaml'), ...store, '--json']);
    expect(started.code, started.stderr).toBe(0);
    const run = lastJson<Record<string, unknown> & { runId: string; createdAt: number; steps: Array<Record<string, number | null>>; waitingFor: { timeoutAt: number; timeoutAtIso: string } }>(started.stdout);
    expect(run['createdAtIso']).toBe(isoOf(run.createdAt));
    expect(run['updatedAtIso']).toBe(isoOf(run['updatedAt'] as number));
    for (const step of run.steps) {
      expect(step['startedAtIso']).toBe(isoOf(step['startedAt']!));
      expect(step['endedAtIso']).toBe(isoOf(step['endedAt'] ?? null));
    }
    expect(run.waitingFor.timeoutAtIso).toBe(isoOf(run.waitingFor.timeoutAt));
    expect(run.waitingFor.timeoutAtIso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const sent = await cli(['send', run.runId, 'APPROVE', ...store]);
    expect(sent.code, sent.stderr).toBe(0);
    const show = await cli(['show', run.runId, ...store.slice(0, 2), '--json']);
    const detail = lastJson<{ timeline: { rows: Row[] }; journal: Array<{ at: number; atIso: string }> }>(show.stdout);
    expect(detail.journal.length).toBeGreaterThan(0);
    for (const entry of detail.journal) expect(entry.atIso).toBe(isoOf(entry.at));
    // pay ran after the event: its progress line gives the time its attempt took, as show does, not the time since it was entered.
    const pay = detail.timeline.rows.find((r) => r.step === 'pay' && r.event === 'completed');
    expect(sent.stderr).toContain(`✓ pay done · 1 attempt · 0 tokens ${pay?.durationMs} ms`);

    const list = await cli(['list', ...store.slice(0, 2)]);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^run\s+workflow\s+status\s+tokens\s+created$/);
    expect(lines[1]).toContain(run.runId);
    expect(lines[1]).toContain(run['createdAtIso'] as string);
    expect(lines[lines.length - 1]).toMatch(/^1 run: 1 done, \d+ tokens$/);
    const rows = lastJson<Array<{ createdAt: number; createdAtIso: string; updatedAt: number; updatedAtIso: string }>>((await cli(['list', ...store.slice(0, 2), '--json'])).stdout);
    expect(rows[0]).toMatchObject({ createdAtIso: isoOf(rows[0]!.createdAt), updatedAtIso: isoOf(rows[0]!.updatedAt) });
  });

  it('show widens its step column to fit long step ids', async () => {
    const store = [...tempStore(), '--emulator'];
    const started = await cli(['run', 'test/cli/fixtures/long-ids.yaml', ...store, '--json']);
    expect(started.code, started.stderr).toBe(0);
    const show = await cli(['show', lastJson(started.stdout).runId, ...store.slice(0, 2)]);
    const lines = show.stdout.split('\n');
    const header = lines.find((l) => l.startsWith('+ms'))!;
    const row = lines.find((l) => /^\d+ /.test(l) && l.includes('wait_for_the_finance_department_approval'))!;
    const stepAt = header.indexOf('step');
    expect(row.indexOf('wait_for_the_finance_department_approval')).toBe(stepAt);
    // The visit column starts after the id, where the header's does.
    expect(row.slice(header.indexOf('visit'), header.indexOf('visit') + 1)).toBe('1');
    expect(row.slice(stepAt, header.indexOf('visit'))).toMatch(/^wait_for_the_finance_department_approval +$/);
  });
});
