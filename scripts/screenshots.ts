/**
 * Writes docs/screenshots/run.png (the run viewer of a finished run) and
 * docs/screenshots/inbox.png (the inbox, one proposed tool input edited) with
 * headless Chromium against a real server: SQLite in a temp dir, the emulator
 * as the model, the system clock. Run: `npx tsx scripts/screenshots.ts`.
 *
 * On a server without `GET /api/inbox` the inbox is a fixture built from real
 * runs (the record_invoice tool's schema and a run's extracted invoice), so the
 * picture shows the same page; with the inbox route the real entries are used.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { recordInvoice } from '../definitions/tools/invoice.js';
import { startEmulator } from '../src/emulator/index.js';
import { createEngine } from '../src/engine/engine.js';
import { createServer } from '../src/server/app.js';
import { listen } from '../src/server/listen.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import { toolInputSchema } from '../src/tools/define.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const out = join(root, 'docs', 'screenshots');
const token = 'screenshot-token';
const dir = mkdtempSync(join(tmpdir(), 'stepwise-shots-'));
const emulator = await startEmulator({ seed: 7 });
const store = createSqliteStore({ path: join(dir, 'runs.db') });
const engine = createEngine({ store, model: { baseURL: emulator.url, apiKey: 'x', maxRetries: 0 } });
const server = createServer(engine, { tokens: [{ token, label: 'ops-team' }], definitions: join(root, 'definitions'), log: () => {} });

const call = async (method: string, path: string, body?: unknown) => {
  const res = await server.fetch(new Request(`http://local${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  }));
  return { status: res.status, json: (await res.json()) as any };
};
const invoice = JSON.parse(readFileSync(join(root, 'definitions', 'invoice-approval.input.json'), 'utf8'));
const startInvoice = async () => (await call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoice })).json;

const finished = await startInvoice();
await call('POST', `/api/runs/${finished.runId}/events`, { type: 'APPROVE', data: { by: 'cfo@example.com' } });
const waiting = await startInvoice();
await startInvoice();
// Newest first: an expense report whose drafted reimbursement waits for review heads the inbox.
const expense = JSON.parse(readFileSync(join(root, 'definitions', 'expense-review.input.json'), 'utf8'));
await call('POST', '/api/runs', { workflow: 'expense-review', input: expense });

let fetch = server.fetch;
if ((await call('GET', '/api/inbox')).status === 404) {
  // The fixture: a review of the invoice the model extracted, and the wait it rests in.
  const proposed = (await call('GET', `/api/runs/${finished.runId}`)).json.output.invoice;
  const since = Date.now() - 3 * 60_000;
  const entries = [
    { runId: waiting.runId, workflow: 'invoice-approval', step: 'extract', kind: 'review', waitingSince: since, waitingSinceIso: new Date(since).toISOString(), events: ['APPROVE', 'REJECT'], tool: recordInvoice.name, schema: toolInputSchema(recordInvoice), proposed, prompt: 'Extract the invoice fields from the document.' },
    { runId: finished.runId, workflow: 'invoice-approval', step: 'cfo_approval', kind: 'wait', waitingSince: since, waitingSinceIso: new Date(since).toISOString(), events: ['APPROVE', 'REJECT'], show: { vendor: 'Acme Industrial Supply', total: 12500, currency: 'USD' }, prompt: 'The CFO approves invoices over 10,000.' },
  ];
  fetch = (request) => (new URL(request.url).pathname === '/api/inbox' ? Response.json({ entries }) : server.fetch(request));
}

const listening = await listen(fetch, { port: 0, authenticated: true });
const browser = await chromium.launch({ executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
try {
  mkdirSync(out, { recursive: true });
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${listening.url}/#/runs/${finished.runId}`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.meta .badge.done').waitFor();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(out, 'run.png'), fullPage: true });

  await page.goto(`${listening.url}/#/inbox`);
  const card = page.locator('article.entry').first();
  await card.waitFor();
  const field = card.getByLabel('total');
  if (await field.count()) await field.fill('12000');
  else await card.locator('input[type="number"]').first().fill('900');
  await card.locator('.field.changed').first().waitFor();
  await page.screenshot({ path: join(out, 'inbox.png'), fullPage: true });
  process.stdout.write(`wrote ${join(out, 'run.png')} and ${join(out, 'inbox.png')}\n`);
} finally {
  await browser.close();
  await listening.close();
  await store.close();
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
}
