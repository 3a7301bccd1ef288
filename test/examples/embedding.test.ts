/** The README's embedding example, run as written against a real SQLite file. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { approveInvoice } from '../../examples/embedding/approve.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('examples/embedding', () => {
  it('starts the invoice workflow, sees it wait for the CFO, approves it and gets the payment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-embed-'));
    dirs.push(dir);
    const { document } = JSON.parse(readFileSync('definitions/invoice-approval.input.json', 'utf8')) as { document: string };
    const { run, seen } = await approveInvoice(`sqlite:${join(dir, 'runs.db')}`, document);
    expect(seen).toContain('cfo_approval:waiting');
    expect(seen.at(-1)).toBe('done:done');
    expect(run.status).toBe('done');
    expect(run.output).toMatchObject({ decision: 'approved', payment: { approvedBy: 'cfo@example.com', amount: 12500, status: 'scheduled' } });
  });

  it('a small invoice is paid without waiting', async () => {
    const document = 'Invoice Number: INV-7\nVendor ID: V-1002\nTotal: 420.00\nCurrency: EUR\nDue Date: 2026-12-31';
    const { run, seen } = await approveInvoice('memory', document);
    expect(seen.some((s) => s.endsWith(':waiting'))).toBe(false);
    expect(run.output).toMatchObject({ decision: 'approved', payment: { approvedBy: 'auto', amount: 420 } });
  });
});
