/**
 * The composition examples through `createEngine` on a real SQLite file and
 * the emulator: the line-item `map` of the invoice family and the intake that
 * runs invoice-approval as a sub-workflow (waiting for the CFO through it).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { showRun } from '../../src/query/show.js';
import { harness, inputOf, load, type Harness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

describe('composition examples', () => {
  it('invoice-line-items maps over the lines, tolerates the unknown SKU, and sums the rest in input order', async () => {
    const engine = h.engine();
    const run = await engine.start(await load('invoice-line-items.yaml'), { input: inputOf('invoice-line-items.yaml') });
    expect(run.failure).toBeNull();
    expect(run.status).toBe('done');
    const output = run.output as { total: number; lines: Array<{ sku: string; amount: number } | null> };
    expect(output.lines.map((l) => l?.sku ?? null)).toEqual(['HP-220', 'SK-9', 'VL-40', 'GS-7', null]);
    expect(output.total).toBe(10_000 + 250 + 524 + 850);
    const detail = await showRun(engine.store, run.runId);
    expect(detail.children.map((c) => [c.index, c.status])).toEqual([
      [0, 'done'],
      [1, 'done'],
      [2, 'done'],
      [3, 'done'],
      [4, 'failed'],
    ]);
    expect(detail.journal.find((j) => j.step === 'lines' && j.event === 'completed')?.data).toMatchObject({ items: 5, failures: [{ index: 4, status: 'failed' }] });
    // The parent is charged what its items spent.
    const children = await engine.store.list({ parentId: run.runId });
    expect(run.usage.totalTokens).toBe(children.reduce((t, c) => t + c.usage.totalTokens, 0));
    expect(run.usage.totalTokens).toBeGreaterThan(0);
  });

  it('invoice-intake runs invoice-approval as a child run; APPROVE sent to the intake reaches the waiting child', async () => {
    const engine = h.engine();
    const waiting = await engine.start(await load('invoice-intake.yaml'), { input: inputOf('invoice-intake.yaml') });
    expect(waiting.status).toBe('waiting');
    const [child] = await engine.store.list({ parentId: waiting.runId });
    expect(child).toMatchObject({ workflow: 'invoice-approval', status: 'waiting', options: { budget: 20_000, parent: { runId: waiting.runId, step: 'approval' } } });
    const done = await engine.send(waiting.runId, 'APPROVE', { by: 'cfo@example.com' });
    expect(done.status).toBe('done');
    expect(done.output).toEqual({ filed: true, invoiceNumber: 'INV-2041', decision: 'approved' });
    const approved = await engine.store.get(child!.id);
    expect(approved?.status).toBe('done');
    expect((approved?.output as { payment: { approvedBy: string } }).payment.approvedBy).toBe('cfo@example.com');
    expect(done.usage).toEqual(approved?.usage);
    expect((await showRun(engine.store, child!.id)).parent).toMatchObject({ runId: waiting.runId, step: 'approval' });
  });
});
