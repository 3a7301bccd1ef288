/**
 * `redrivable` and the redrive hint through the built CLI on a SQLite file:
 * a run that failed in a map with failed items says `redrivable: true` in
 * `run --json` and `show --json`, and `run` and `show` print the command that
 * re-runs those items; a run that failed elsewhere (a map whose items are not
 * an array) or finished says false and prints no such hint.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, lastJson, root } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-redrive-hint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const store = `sqlite:${join(dir, 'runs.db')}`;
const lineItems = join(root, 'definitions', 'invoice-line-items.yaml');
const badItems = join(root, 'test', 'cli', 'fixtures', 'map-bad-items.yaml');
// Two unknown SKUs: one more than the map tolerates.
const failingInput = JSON.stringify({ invoiceNumber: 'INV-9', lines: [{ sku: 'SK-9', quantity: 1, unitPrice: 25 }, { sku: 'NO-1', quantity: 1, unitPrice: 1 }, { sku: 'NO-2', quantity: 1, unitPrice: 1 }] });

interface Shown {
  runId: string;
  status: string;
  redrivable: boolean;
}

describe('the redrive hint', { timeout: SPAWN_BUDGET_MS }, () => {
  it('a run that failed in a map with failed items is redrivable: run and show say so and print `stepwise redrive <runId>`', async () => {
    const ran = await cli(['run', lineItems, '--id', 'rd-1', '--input', failingInput, '--emulator', '--store', store, '--json']);
    const run = lastJson<Shown>(ran.stdout);
    expect(run.status).toBe('failed');
    expect(run.redrivable).toBe(true);
    expect(lastJson<Shown>((await cli(['show', 'rd-1', '--store', store, '--json'])).stdout).redrivable).toBe(true);

    // Runnable as printed: the same store, and --emulator (the store is not the default, and no model is configured).
    const hint = new RegExp(`^.*stepwise redrive rd-1 --store ${store.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --emulator$`, 'm');
    const shown = await cli(['show', 'rd-1', '--store', store]);
    expect(shown.stdout).toMatch(hint);
    const printed = await cli(['run', lineItems, '--id', 'rd-2', '--input', failingInput, '--emulator', '--store', store]);
    expect(printed.stdout.replaceAll('rd-2', 'rd-1')).toMatch(hint);
    // The hint runs as printed: the failed items run again (and fail again: the catalogue still lacks them).
    const redriven = await cli(['redrive', 'rd-1', '--emulator', '--store', store, '--json']);
    expect(lastJson<Shown>(redriven.stdout)).toMatchObject({ status: 'failed', redrivable: true });
  });

  it('a run that failed before any item ran, and a finished run, are not redrivable and get no hint', async () => {
    const ran = await cli(['run', badItems, '--id', 'rd-3', '--input', JSON.stringify({ lines: 'not a list' }), '--emulator', '--store', store, '--json']);
    const run = lastJson<Shown>(ran.stdout);
    expect(run.status).toBe('failed');
    expect(run.redrivable).toBe(false);
    expect(lastJson<Shown>((await cli(['show', 'rd-3', '--store', store, '--json'])).stdout).redrivable).toBe(false);
    expect((await cli(['show', 'rd-3', '--store', store])).stdout).not.toContain('stepwise redrive');
    expect((await cli(['run', badItems, '--input', JSON.stringify({ lines: 'no' }), '--emulator', '--store', store])).stdout).not.toContain('stepwise redrive');

    const done = lastJson<Shown>((await cli(['run', badItems, '--id', 'rd-4', '--input', JSON.stringify({ lines: [1, 2] }), '--emulator', '--store', store, '--json'])).stdout);
    expect(done).toMatchObject({ status: 'done', redrivable: false });
  });
});
