/**
 * The web UI in headless Chromium against a real server (SQLite file, the
 * emulator as the model): signing in, the run list, the run viewer with its
 * per-step figures and live updates, and answering a wait from the viewer.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { launchBrowser, newPage, signIn } from './browser.js';
import { invoiceInput, startApi, TOKEN, type Api } from './helpers.js';

let api: Api;
let browser: Browser;
beforeAll(async () => {
  [api, browser] = await Promise.all([startApi(), launchBrowser()]);
}, SPAWN_BUDGET_MS);
afterAll(async () => {
  await browser?.close();
  await api?.close();
});

const start = async () => (await api.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput() })).json as { runId: string; status: string };
const usd = (n: number) => `$${n.toFixed(4)}`;

describe('web UI', () => {
  it('asks for the token once: a wrong one is refused, the right one signs in and survives a reload; log out signs out', async () => {
    const page = await newPage(browser);
    await page.goto(`${api.url}/`);
    await page.getByLabel('API token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That token is not valid.' }).waitFor();
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('signed in as ops-team').waitFor();
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite, c.path])).toEqual([['stepwise_session', true, 'Strict', '/']]);
    expect(cookies[0]!.value).not.toContain(TOKEN);
    await page.reload();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    expect(await page.getByLabel('API token').count()).toBe(0);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('API token').waitFor();
    await page.context().close();
  }, SPAWN_BUDGET_MS);

  it('the run list shows a started run, filters by status and sorts by cost', async () => {
    const run = await start();
    const page = await newPage(browser);
    await signIn(page, api.url);
    const row = page.locator(`#runs tr[data-run="${run.runId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('waiting');
    await page.getByLabel('Status').selectOption('done');
    await page.getByLabel('Sort by').selectOption('usd');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/#\/runs\?status=done&sort=usd&order=desc$/);
    await page.locator('#run-count').filter({ hasText: /run|No runs/ }).waitFor();
    expect(await row.count()).toBe(0);
    expect(await page.locator('th[aria-sort="descending"]').textContent()).toBe('Cost');
    await page.context().close();
  }, SPAWN_BUDGET_MS);

  it('the viewer answers a wait: APPROVE from the page drives the run to done, with per-step tokens and cost, totals and who approved', async () => {
    const run = await start();
    expect(run.status).toBe('waiting');
    const page = await newPage(browser);
    await signIn(page, api.url, `#/runs/${run.runId}`);
    await page.getByRole('heading', { name: 'Waiting at cfo_approval' }).waitFor();
    await page.locator('#diagram').waitFor();
    await page.getByLabel('Event data (JSON, optional)').fill('{"note": "ok by the CFO"}');
    await page.getByRole('button', { name: 'APPROVE' }).click();
    await page.locator('.meta .badge.done').waitFor();
    await page.locator('#output').waitFor();
    expect(await page.locator('#waiting').count()).toBe(0);

    const detail = (await api.call('GET', `/api/runs/${run.runId}`)).json;
    expect(detail.status).toBe('done');
    const event = detail.journal.find((e: { event: string }) => e.event === 'event');
    expect(event.data.by).toBe('ops-team');
    expect(event.data.data).toEqual({ note: 'ok by the CFO' });

    const extract = detail.steps.find((s: { id: string }) => s.id === 'extract');
    expect(extract.inputTokens).toBeGreaterThan(0);
    const cells = await page.locator('#steps tr[data-step="extract"] td').allTextContents();
    // Status, attempts, tokens in, tokens out, cache reads, cost, latency
    expect(cells[2]).toBe(extract.inputTokens.toLocaleString('en-US'));
    expect(cells[3]).toBe(extract.outputTokens.toLocaleString('en-US'));
    expect(cells[4]).toBe('0');
    expect(cells[5]).toBe(usd(detail.timeline.rows.filter((r: { step: string }) => r.step === 'extract').reduce((t: number, r: { usd: number }) => t + r.usd, 0)));
    expect(cells[5]).not.toBe(usd(0));
    const total = await page.locator('#steps tfoot td').allTextContents();
    expect(total[0]).toBe('Total');
    expect(total[3]).toBe(detail.timeline.totals.inputTokens.toLocaleString('en-US'));
    expect(total[6]).toBe(usd(detail.usage.usd));
    expect(await page.locator('#run-totals').textContent()).toContain(usd(detail.usage.usd));
    // The timeline names who resolved the wait.
    await page.locator('#timeline td').filter({ hasText: 'APPROVE by ops-team' }).waitFor();
    // The diagram follows the run: its address changes with each commit, and the session cookie fetches it.
    const src = await page.locator('#diagram[src*="-done"]').getAttribute('src');
    const svg = await page.request.get(`${api.url}${src}`);
    expect(svg.status()).toBe(200);
    expect(svg.headers()['content-type']).toContain('image/svg+xml');
    await page.context().close();
  }, SPAWN_BUDGET_MS);

  it('the viewer follows the run live: an approval sent elsewhere shows up without a reload', async () => {
    const run = await start();
    const page = await newPage(browser);
    await signIn(page, api.url, `#/runs/${run.runId}`);
    await page.getByRole('heading', { name: 'Waiting at cfo_approval' }).waitFor();
    expect((await api.call('POST', `/api/runs/${run.runId}/events`, { type: 'REJECT' })).json.status).toBe('done');
    await page.locator('.meta .badge.done').waitFor();
    await page.locator('#timeline td').filter({ hasText: 'REJECT by ops-team' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Waiting at cfo_approval' }).count()).toBe(0);
    await page.context().close();
  }, SPAWN_BUDGET_MS);
});
