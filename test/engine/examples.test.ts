/**
 * The shipped examples through `createEngine` on real SQLite files and the
 * emulator: they finish, a new engine resumes a waiting run, usage and the
 * journal add up, and the invoice routing takes each of its routes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/engine/view.js';
import type { JournalEntry } from '../../src/run/types.js';
import { examples, harness, inputOf, load, type Harness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

/** Journal invariants: seq 1..n, one `started` before each `completed`/`failed` of a step attempt, in trail order. */
function checkJournal(journal: readonly JournalEntry[], view: RunView) {
  expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
  expect(journal[0]?.event).toBe('created');
  const open = new Map<string, number>();
  for (const e of journal) {
    const key = `${e.step}:${e.visit}:${e.attempt}`;
    if (e.event === 'started') open.set(key, e.seq);
    if (e.event === 'completed' || (e.event === 'failed' && open.has(key))) {
      expect(open.has(key), `${e.event} of ${key} without started`).toBe(true);
      open.delete(key);
    }
  }
  expect([...open.keys()]).toEqual([]);
  // Work steps complete in the order the run visited them.
  const completed = journal.filter((e) => e.event === 'completed').map((e) => e.step);
  const workDone = view.steps.filter((s) => s.status === 'done' && completed.includes(s.id)).map((s) => s.id);
  expect(completed).toEqual(workDone);
}

/** Usage per step visit, per journal entry and per run agree. */
function checkUsage(journal: readonly JournalEntry[], view: RunView) {
  const byJournal = journal.reduce((t, e) => t + (e.usage?.totalTokens ?? 0), 0);
  const bySteps = view.steps.reduce((t, s) => t + s.tokens, 0);
  expect(view.usage.totalTokens).toBe(view.usage.inputTokens + view.usage.outputTokens);
  expect(bySteps).toBe(view.usage.totalTokens);
  expect(byJournal).toBe(view.usage.totalTokens);
  for (const s of view.steps) expect(s.tokens).toBe(s.inputTokens + s.outputTokens);
}

describe('the shipped examples', () => {
  it.each(examples)('%s runs to done (approving a wait) with usage and journal that add up', async (example) => {
    const engine = h.engine();
    const definition = await load(example);
    let view = await engine.start(definition, { input: inputOf(example) });
    if (view.status === 'waiting') {
      expect(view.waitingFor?.events).toContain('APPROVE');
      view = await engine.send(view.runId, 'APPROVE', { by: 'cfo@example.com' });
    }
    expect(view.failure).toBeNull();
    expect(view.status).toBe('done');
    expect(view.output).not.toBeNull();
    expect(view.usage.totalTokens).toBeGreaterThan(0);
    const journal = await engine.journal(view.runId);
    expect(journal.at(-1)).toMatchObject({ event: 'finished', output: view.output });
    checkJournal(journal, view);
    checkUsage(journal, view);
    // The usage stored on the run is what the emulator charged.
    expect(view.usage.inputTokens).toBe(h.emu.stats().inputTokens);
    expect(view.usage.outputTokens).toBe(h.emu.stats().outputTokens);
  });

  it('invoice-approval waits for the CFO; a new engine on the same file approves it and it pays', async () => {
    const first = h.engine();
    const definition = await load('invoice-approval.yaml');
    const waiting = await first.start(definition, { input: inputOf('invoice-approval.yaml') });
    expect(waiting.status).toBe('waiting');
    expect(waiting.waitingFor).toMatchObject({ step: 'cfo_approval', events: ['APPROVE', 'REJECT'] });
    expect(waiting.steps.map((s) => [s.id, s.status])).toEqual([
      ['extract', 'done'],
      ['validate', 'done'],
      ['route', 'done'],
      ['cfo_approval', 'waiting'],
    ]);
    expect(waiting.resumable).toBe(false);

    // Another engine, another store object, the same SQLite file: restore from the snapshot.
    const second = h.engine();
    expect(await second.get(waiting.runId)).toEqual(waiting);
    const done = await second.send(waiting.runId, 'APPROVE', { by: 'cfo@example.com' });
    expect(done.status).toBe('done');
    expect(done.output).toMatchObject({
      decision: 'approved',
      invoice: { vendorId: 'V-1001', invoiceNumber: 'INV-2041', total: 12500 },
      payment: { approvedBy: 'cfo@example.com', amount: 12500, status: 'scheduled' },
    });
    // The model was called once (extract); pay and validate are tools.
    expect(h.emu.stats().messages).toBe(1);
    expect(done.usage).toEqual(waiting.usage);
    const journal = await second.journal(waiting.runId);
    checkJournal(journal, done);
    expect(journal.find((e) => e.event === 'event')).toMatchObject({ step: 'cfo_approval', data: { type: 'APPROVE', data: { by: 'cfo@example.com' } } });
    expect((await first.get(waiting.runId)).status).toBe('done');
  });

  it('REJECT routes the invoice to rejected', async () => {
    const engine = h.engine();
    const waiting = await engine.start(await load('invoice-approval.yaml'), { input: inputOf('invoice-approval.yaml') });
    const rejected = await engine.send(waiting.runId, 'REJECT');
    expect(rejected.status).toBe('done');
    expect(rejected.output).toMatchObject({ decision: 'rejected' });
    expect(rejected.steps.map((s) => s.id)).not.toContain('pay');
  });

  it('a small invoice is paid without waiting', async () => {
    const engine = h.engine();
    const document = 'INVOICE\nInvoice Number: INV-77\nVendor ID: V-1002\nDue Date: 2026-12-02\n\nTotal: 480.00\nCurrency: USD\n';
    const view = await engine.start(await load('invoice-approval.yaml'), { input: { document } });
    expect(view.status).toBe('done');
    expect(view.waitingFor).toBeNull();
    expect(view.steps.map((s) => s.id)).toEqual(['extract', 'validate', 'route', 'pay', 'done']);
    expect(view.output).toMatchObject({ decision: 'approved', invoice: { total: 480, vendorId: 'V-1002' }, payment: { approvedBy: 'auto', amount: 480 } });
  });

  it('an unknown vendor goes through onError to manual review', async () => {
    const engine = h.engine();
    const document = 'INVOICE\nInvoice Number: INV-5\nVendor ID: V-4242\nDue Date: 2026-12-02\n\nTotal: 300.00\nCurrency: USD\n';
    const view = await engine.start(await load('invoice-approval.yaml'), { input: { document } });
    expect(view.status).toBe('waiting');
    expect(view.waitingFor?.step).toBe('manual_review');
    expect(view.failure).toBeNull();
    const validate = view.steps.find((s) => s.id === 'validate');
    // An unknown vendor is not transient: no retries, straight to the onError route.
    expect(validate).toMatchObject({ status: 'failed', attempts: 1 });
    const journal = await engine.journal(view.runId);
    const failures = journal.filter((e) => e.step === 'validate' && e.event === 'failed');
    expect(failures).toHaveLength(1);
    expect(journal.filter((e) => e.event === 'retry_scheduled')).toEqual([]);
    expect(failures[0]?.error).toEqual({ kind: 'tool_error', message: 'check_vendor: vendor V-4242 is not in the ERP' });
    const approved = await engine.send(view.runId, 'APPROVE', { by: 'controller' });
    expect(approved.status).toBe('done');
    expect(approved.output).toMatchObject({ payment: { vendorId: 'V-4242', approvedBy: 'controller' } });
  });
});
