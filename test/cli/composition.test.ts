/**
 * The composition commands through the built CLI: a `map` example runs with
 * `stepwise run --emulator`; `show` lists its child runs; `list` hides them
 * unless `--children`; `redrive` re-runs only the failed items of a failed map.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, root } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-composition-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const store = `sqlite:${join(dir, 'runs.db')}`;
const definition = join(root, 'definitions', 'invoice-line-items.yaml');
const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;

describe('map and child runs on the CLI', { timeout: SPAWN_BUDGET_MS }, () => {
  it('run, show, list and redrive', async () => {
    const ran = await cli(['run', definition, '--input', `@${join(root, 'definitions', 'invoice-line-items.input.json')}`, '--emulator', '--store', store, '--json']);
    expect(ran.code, ran.stderr).toBe(0);
    const run = last(ran.stdout);
    expect(run['status']).toBe('done');
    const shown = last((await cli(['show', String(run['runId']), '--store', store, '--json'])).stdout) as { children: Array<{ id: string; workflow: string; status: string; step: string }> };
    expect(shown.children).toHaveLength(5);
    expect(shown.children[0]).toMatchObject({ workflow: 'invoice-line-items.lines', status: 'done', step: 'lines' });
    const text = (await cli(['show', String(run['runId']), '--store', store])).stdout;
    expect(text).toContain('children (5):');
    const child = (await cli(['show', shown.children[0]!.id, '--store', store])).stdout;
    expect(child).toContain(`child of run ${String(run['runId'])} (step lines, item 0)`);

    // Two unknown SKUs: one more than the map tolerates.
    const input = { invoiceNumber: 'INV-9', lines: [{ sku: 'SK-9', quantity: 1, unitPrice: 25 }, { sku: 'NO-1', quantity: 1, unitPrice: 1 }, { sku: 'NO-2', quantity: 1, unitPrice: 1 }] };
    const failed = last((await cli(['run', definition, '--input', JSON.stringify(input), '--emulator', '--store', store, '--json'])).stdout);
    expect(failed['status']).toBe('failed');
    const listed = JSON.parse((await cli(['list', '--store', store, '--json'])).stdout) as Array<{ runId: string }>;
    expect(listed.map((r) => r.runId).sort()).toEqual([run['runId'], failed['runId']].sort());
    const all = JSON.parse((await cli(['list', '--children', '--store', store, '--json'])).stdout) as Array<{ workflow: string; tokens: number }>;
    expect(all).toHaveLength(2 + 5 + 3);

    // The totals line counts each token once: a parent's tokens already include its items'.
    const total = async (args: string[]) => Number(/, (\d+) tokens\n$/.exec((await cli(['list', ...args, '--store', store])).stdout)?.[1]);
    const items = all.filter((r) => r.workflow === 'invoice-line-items.lines');
    const sum = (rows: Array<{ tokens: number }>) => rows.reduce((t, r) => t + r.tokens, 0);
    expect(sum(items)).toBeGreaterThan(0);
    expect(await total([])).toBe(sum(all.filter((r) => r.workflow === 'invoice-line-items')));
    expect(await total(['--children'])).toBe(await total([]));
    // Items listed without their parent: theirs are the listing's tokens.
    expect(await total(['--children', '--workflow', 'invoice-line-items.lines'])).toBe(sum(items));

    // The catalogue still lacks both SKUs: the redrive runs exactly those two items again, and the map fails again.
    const redriven = await cli(['redrive', String(failed['runId']), '--emulator', '--store', store, '--json']);
    expect(last(redriven.stdout)['status']).toBe('failed');
    const after = last((await cli(['show', String(failed['runId']), '--store', store, '--json'])).stdout) as { children: Array<{ index: number }> };
    expect(after.children.map((c) => c.index).sort()).toEqual([0, 1, 1, 2, 2]);
    // Path tests walk the parent's paths; a waiting child gets the first event it accepts.
    for (const file of ['invoice-line-items.yaml', 'invoice-intake.yaml']) {
      const tested = await cli(['test', join(root, 'definitions', file)]);
      expect(tested.code, tested.stdout + tested.stderr).toBe(0);
      expect(tested.stdout).toContain('no problems found');
    }
    // ... and the child runs' own paths: the map body's, counted per item (maxItems 6) in the map's worst case.
    const walked = await cli(['test', definition, '--json']);
    const report = last(walked.stdout) as { paths: Array<{ worstCaseTokens: number }>; children: Array<{ step: string; times: number; report: { workflow: string; paths: Array<{ worstCaseTokens: number }> } }> };
    expect(report.children.map((c) => [c.step, c.report.workflow, c.times])).toEqual([['lines', 'invoice-line-items.lines', 6]]);
    const body = Math.max(...report.children[0]!.report.paths.map((p) => p.worstCaseTokens));
    expect(body).toBeGreaterThan(0);
    expect(report.paths.every((p) => p.worstCaseTokens === 6 * body)).toBe(true);
    const printed = (await cli(['test', definition])).stdout;
    expect(printed).toContain('child runs of "lines" (invoice-line-items.lines)');
    const refused = await cli(['redrive', String(run['runId']), '--emulator', '--store', store]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('did not fail in a map step');
  });
});
