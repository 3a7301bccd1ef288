/**
 * The inbox in headless Chromium, end to end: a run's `claude` step under
 * review waits in the inbox; the reviewer edits one field of the proposed
 * input (the form is generated from the tool's JSON Schema, the changed field
 * highlighted), approves with edits, the tool receives the edited input, the
 * run finishes, and its viewer shows it done with its cost.
 *
 * Needs the `review` branch (GET /api/inbox, `review: true`, the
 * expense-review example).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { launchBrowser, newPage, signIn } from './browser.js';
import { root, startApi, type Api } from './helpers.js';

let api: Api;
let browser: Browser;
beforeAll(async () => {
  [api, browser] = await Promise.all([startApi(), launchBrowser()]);
}, SPAWN_BUDGET_MS);
afterAll(async () => {
  await browser?.close();
  await api?.close();
});

describe('inbox', () => {
  it('edit one field of a proposed tool input, approve with edits: the tool gets the edit and the run finishes', async () => {
    const input: unknown = JSON.parse(readFileSync(join(root, 'definitions', 'expense-review.input.json'), 'utf8'));
    const started = await api.call('POST', '/api/runs', { workflow: 'expense-review', input });
    expect(started.json.status).toBe('waiting');
    const runId: string = started.json.runId;
    const entry = (await api.call('GET', '/api/inbox')).json.entries.find((e: { runId: string }) => e.runId === runId);
    expect(entry.kind).toBe('review');
    const edited = entry.proposed.amount === 123.45 ? 234.56 : 123.45;

    const page = await newPage(browser);
    await signIn(page, api.url, '#/inbox');
    const card = page.locator(`article[data-run="${runId}"]`);
    await card.waitFor();
    // The form holds the model's values, one labelled control per field of the schema.
    expect(await card.getByLabel('employee').inputValue()).toBe(entry.proposed.employee);
    expect(await card.getByLabel('category').inputValue()).toBe(JSON.stringify(entry.proposed.category));
    const withEdits = card.getByRole('button', { name: 'Approve with edits' });
    expect(await withEdits.isDisabled()).toBe(true);
    const amount = card.getByLabel('amount');
    expect(Number(await amount.inputValue())).toBe(entry.proposed.amount);
    await amount.fill(String(edited));
    await card.locator('.field.changed', { has: page.getByLabel('amount') }).waitFor();
    expect(await card.locator('.field.changed').count()).toBe(1);
    expect(await withEdits.isDisabled()).toBe(false);
    await withEdits.click();
    await page.locator('#status').filter({ hasText: `Sent APPROVE to run ${runId.slice(0, 13)}` }).waitFor();
    await card.waitFor({ state: 'detached' });

    const detail = (await api.call('GET', `/api/runs/${runId}`)).json;
    expect(detail.status).toBe('done');
    expect(detail.output.payment.amount).toBe(edited);
    expect(detail.output.payment.employee).toBe(entry.proposed.employee);

    await page.goto(`${api.url}/#/runs/${runId}`);
    await page.locator('.meta .badge.done').waitFor();
    expect(await page.locator('#run-totals').textContent()).toContain(`$${detail.usage.usd.toFixed(4)}`);
    expect(detail.usage.usd).toBeGreaterThan(0);
    await page.context().close();
  }, SPAWN_BUDGET_MS);
});
