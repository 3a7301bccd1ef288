/**
 * Headless Chromium (Debian's, `apt-get install chromium`) driven by
 * playwright-core, for the web UI tests: no browser download. Every wait is a
 * Playwright wait on a selector, bounded by the condition budget.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { CONDITION_BUDGET_MS } from '../budgets.js';
import { TOKEN } from './helpers.js';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A new page (its own cookie jar) with the condition budget as its default wait. */
export async function newPage(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(CONDITION_BUDGET_MS);
  return page;
}

/** Opens the UI and signs in with the test token through the login form. */
export async function signIn(page: Page, url: string, hash = ''): Promise<void> {
  await page.goto(`${url}/${hash}`);
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#nav:not([hidden])').waitFor();
}
