/**
 * `review` on `claude` steps, through the real engine, a real SQLite file and
 * the emulator as the model: the run waits with the proposed tool input
 * before the tool runs; APPROVE (as is, or edited and validated) runs the
 * tool with that input without calling the model again; REJECT routes to
 * `onReject` or fails the run as `rejected`; a restart while under review
 * loses nothing. Also `wait.show` and the inbox query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { StepwiseError } from '../../src/errors.js';
import { inbox } from '../../src/query/inbox.js';
import { REVIEW_PROMPT_MAX_CHARS } from '../../src/kinds/review.js';
import { InboxEntrySchema } from '../../src/server/schemas.js';
import { defineTool } from '../../src/tools/define.js';
import { ToolFault } from '../../src/testing/tool-faults.js';
import { harness, type Harness } from '../engine/helpers.js';

interface Payment {
  readonly vendor: string;
  readonly amount: number;
}

const paid: Array<{ input: Payment; key: string }> = [];
const pay = defineTool({
  name: 'pay_vendor',
  description: 'Pay a vendor an amount in dollars',
  input: z.object({ vendor: z.string().min(1), amount: z.number().min(0) }),
  run: (input, { idempotencyKey }) => {
    paid.push({ input, key: idempotencyKey });
    return { paid: input.amount };
  },
});

function payment(review: unknown, extra: Record<string, unknown> = {}, steps: Record<string, unknown> = {}) {
  return loadDefinitionFromObject(
    {
      id: 'payment',
      steps: {
        pay: {
          claude: { tool: 'pay_vendor', prompt: 'Pay the vendor named in the document.', context: { document: '{% $input.document %}' } },
          review,
          next: 'done',
          ...extra,
        },
        done: { final: true, output: '{% $steps.pay.output %}' },
        ...steps,
      },
    },
    [pay],
    'payment',
  );
}

const input = { document: 'Invoice from ACME, 120 dollars' };

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(async () => {
  await h.close();
});

async function proposedOf(runId: string): Promise<Payment> {
  const entry = (await inbox(h.engine().store)).find((e) => e.runId === runId);
  if (!entry) throw new Error(`no inbox entry for ${runId}`);
  return entry.proposed as Payment;
}

describe('review on claude steps', () => {
  it('waits with the proposed input before the tool runs; APPROVE as is runs the tool with it, once, without the model', async () => {
    const engine = h.engine();
    paid.length = 0;
    const started = await engine.start(payment(true), { input });
    expect(started.status).toBe('waiting');
    expect(started.waitingFor).toMatchObject({ step: 'pay', events: ['APPROVE', 'REJECT'] });
    expect(started.steps.at(-1)).toMatchObject({ id: 'pay', status: 'waiting' });
    expect(paid).toEqual([]);
    const journal = await engine.journal(started.runId);
    expect(journal.at(-1)).toMatchObject({ step: 'pay', event: 'waiting', data: { review: true, events: ['APPROVE', 'REJECT'] } });
    const proposed = await proposedOf(started.runId);
    expect(pay.input.safeParse(proposed).success).toBe(true);

    const calls = h.emu.stats().requests;
    const done = await engine.send(started.runId, 'APPROVE', undefined, { by: 'alice' });
    expect(done.status).toBe('done');
    expect(paid.map((p) => p.input)).toEqual([proposed]);
    expect(paid[0]?.key).toBe(`${started.runId}:pay:1:1`);
    expect(done.output).toEqual({ paid: proposed.amount });
    expect(h.emu.stats().requests).toBe(calls);
    const event = (await engine.journal(started.runId)).find((e) => e.event === 'event');
    expect(event).toMatchObject({ step: 'pay', data: { type: 'APPROVE', by: 'alice', edits: [] } });
  });

  it('APPROVE with an edited input runs the tool with the edit and journals the diff', async () => {
    const engine = h.engine();
    paid.length = 0;
    const started = await engine.start(payment(true), { input });
    const proposed = await proposedOf(started.runId);
    const edited = { ...proposed, amount: proposed.amount + 1 };
    const done = await engine.send(started.runId, 'APPROVE', { input: edited }, { by: 'bob', step: 'pay' });
    expect(done.status).toBe('done');
    expect(paid.map((p) => p.input)).toEqual([edited]);
    const event = (await engine.journal(started.runId)).find((e) => e.event === 'event');
    expect(event?.data).toMatchObject({ type: 'APPROVE', by: 'bob', edits: [{ path: 'amount', from: proposed.amount, to: proposed.amount + 1 }] });
  });

  it('an edited input the tool schema refuses is refused, naming the field: nothing changes, the run still waits', async () => {
    const engine = h.engine();
    paid.length = 0;
    const started = await engine.start(payment(true), { input });
    const before = await engine.store.get(started.runId);
    const journal = await engine.journal(started.runId);
    const proposed = await proposedOf(started.runId);
    const refused = await engine.send(started.runId, 'APPROVE', { input: { ...proposed, amount: 'lots' } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StepwiseError);
    expect((refused as StepwiseError).code).toBe('event_invalid');
    expect((refused as StepwiseError).message).toMatch(/amount/);
    expect((refused as { field?: string }).field).toBe('data.input.amount');
    const after = await engine.store.get(started.runId);
    expect(after?.revision).toBe(before?.revision);
    expect(await engine.journal(started.runId)).toEqual(journal);
    expect(paid).toEqual([]);
    // Still approvable.
    expect((await engine.send(started.runId, 'APPROVE')).status).toBe('done');
  });

  it('REJECT goes to onReject when declared, with the reason in $steps', async () => {
    const engine = h.engine();
    paid.length = 0;
    const definition = payment(true, { onReject: 'manual' }, { manual: { final: true, output: '{% $steps.pay %}' } });
    const started = await engine.start(definition, { input });
    const done = await engine.send(started.runId, 'REJECT', { reason: 'wrong vendor' }, { by: 'carol' });
    expect(done.status).toBe('done');
    expect(paid).toEqual([]);
    expect(done.output).toMatchObject({ status: 'failed', event: 'REJECT', error: { kind: 'rejected', message: expect.stringContaining('wrong vendor') } });
    expect(done.steps.map((s) => [s.id, s.status])).toEqual([
      ['pay', 'failed'],
      ['manual', 'done'],
    ]);
  });

  it('REJECT without onReject fails the run as rejected', async () => {
    const engine = h.engine();
    paid.length = 0;
    const started = await engine.start(payment(true), { input });
    const failed = await engine.send(started.runId, 'REJECT');
    expect(failed.status).toBe('failed');
    expect(failed.failure).toMatchObject({ kind: 'rejected', step: 'pay' });
    expect(failed.resumable).toBe(false);
    expect(paid).toEqual([]);
    await expect(engine.send(started.runId, 'APPROVE')).rejects.toMatchObject({ code: 'event_not_accepted' });
  });

  it('a restart while under review loses nothing: a new engine on the same file approves it', async () => {
    paid.length = 0;
    const first = h.engine();
    const started = await first.start(payment(true), { input });
    const proposed = await proposedOf(started.runId);
    // A new process: a new store on the same file, an engine that knows the tool (as a YAML definition's modules would give it).
    const store = createSqliteStore({ path: h.dbPath });
    h.stores.push(store);
    const second = createEngine({ store, tools: [pay], model: { baseURL: h.emu.url, apiKey: 'x', maxRetries: 0 }, clock: new ManualClock({ autoAdvance: true }) });
    const done = await second.send(started.runId, 'APPROVE');
    expect(done.failure).toBeNull();
    expect(done.status).toBe('done');
    expect(paid.map((p) => p.input)).toEqual([proposed]);
  });

  it('review.when decides, with $proposed bound to the proposed input', async () => {
    const engine = h.engine();
    paid.length = 0;
    const skipped = await engine.start(payment({ when: '{% $proposed.amount < 0 %}' }), { input });
    expect(skipped.status).toBe('done');
    expect(paid).toHaveLength(1);
    const held = await engine.start(payment({ when: '{% $exists($proposed.vendor) %}' }), { input });
    expect(held.status).toBe('waiting');
    expect(paid).toHaveLength(1);
  });

  it('the tool of an approved input is retried with that input, never by calling the model again', async () => {
    const engine = h.engine();
    let failures = 1;
    const flaky = defineTool({
      name: 'pay_vendor',
      description: 'Pay a vendor an amount in dollars',
      input: z.object({ vendor: z.string().min(1), amount: z.number().min(0) }),
      run: (input, { idempotencyKey }) => {
        if (failures-- > 0) throw new Error('bank unavailable');
        paid.push({ input, key: idempotencyKey });
        return { paid: input.amount };
      },
    });
    paid.length = 0;
    const definition = loadDefinitionFromObject(
      { id: 'payment-flaky', retry: { maxAttempts: 3, backoff: { initial: 1 } }, steps: { pay: { claude: { tool: 'pay_vendor', prompt: 'Pay.' }, review: true }, done: { final: true } } },
      [flaky],
      'payment-flaky',
    );
    const started = await engine.start(definition, { input });
    const proposed = await proposedOf(started.runId);
    const calls = h.emu.stats().requests;
    const done = await engine.send(started.runId, 'APPROVE');
    expect(done.status).toBe('done');
    expect(paid.map((p) => p.input)).toEqual([proposed]);
    expect(paid[0]?.key).toBe(`${started.runId}:pay:1:2`);
    expect(h.emu.stats().requests).toBe(calls);
  });

  it('a reviewed step resumed after its approved tool failed runs the tool again as a new attempt, with a new key', async () => {
    const engine = h.engine();
    const keys: string[] = [];
    let failures = 1;
    const bank = defineTool({
      name: 'pay_vendor',
      description: 'Pay a vendor an amount in dollars',
      input: z.object({ vendor: z.string().min(1), amount: z.number().min(0) }),
      run: (input, { idempotencyKey }) => {
        keys.push(idempotencyKey);
        if (failures-- > 0) throw new ToolFault('account closed', false);
        return { paid: input.amount };
      },
    });
    const definition = loadDefinitionFromObject(
      { id: 'payment-resume', steps: { pay: { claude: { tool: 'pay_vendor', prompt: 'Pay.' }, review: true }, done: { final: true } } },
      [bank],
      'payment-resume',
    );
    const started = await engine.start(definition, { input });
    const failed = await engine.send(started.runId, 'APPROVE');
    expect(failed).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'tool_error', step: 'pay' } });
    const calls = h.emu.stats().requests;
    // The approval stands: the tool runs again with the approved input, the model is not asked again.
    const done = await engine.resume(started.runId);
    expect(done.status).toBe('done');
    expect(h.emu.stats().requests).toBe(calls);
    expect(keys).toEqual([`${started.runId}:pay:1:1`, `${started.runId}:pay:1:2`]);
    const journal = await engine.journal(started.runId);
    expect(journal.filter((e) => e.event === 'waiting').map((e) => e.attempt)).toEqual([1]);
    expect(journal.filter((e) => e.event === 'failed').map((e) => e.attempt)).toEqual([1]);
    expect(journal.find((e) => e.event === 'completed' && e.step === 'pay')).toMatchObject({ visit: 1, attempt: 2 });
  });
});

describe('wait.show and the inbox', () => {
  it('evaluates wait.show when the wait is entered and lists waiting steps newest first with the documented fields', async () => {
    const engine = h.engine();
    const approval = loadDefinitionFromObject(
      {
        id: 'approval',
        steps: {
          hold: {
            description: 'Approve the refund',
            wait: { on: { APPROVE: 'end', DENY: 'end' }, show: { customer: '{% $input.customer %}', total: '{% $input.total * 2 %}' } },
          },
          end: { final: true },
        },
      },
      [],
      'approval',
    );
    const review = await engine.start(payment(true), { input });
    (engine.clock as ManualClock).advance(60_000);
    const waitRun = await engine.start(approval, { input: { customer: 'Ada', total: 21 } });
    const entries = (await inbox(engine.store)).filter((e) => e.runId === review.runId || e.runId === waitRun.runId);
    expect(entries.map((e) => e.runId)).toEqual([waitRun.runId, review.runId]);
    for (const entry of entries) expect(InboxEntrySchema.parse(entry)).toEqual(entry);
    expect(entries[0]).toMatchObject({ workflow: 'approval', step: 'hold', kind: 'wait', events: ['APPROVE', 'DENY'], show: { customer: 'Ada', total: 42 }, prompt: 'Approve the refund' });
    expect(entries[0]?.waitingSinceIso).toBe(new Date(entries[0]!.waitingSince).toISOString());
    expect(entries[1]).toMatchObject({ workflow: 'payment', step: 'pay', kind: 'review', events: ['APPROVE', 'REJECT'], tool: 'pay_vendor', prompt: 'Pay the vendor named in the document.' });
    expect(entries[1]?.schema).toMatchObject({ type: 'object', properties: { vendor: { type: 'string' }, amount: { type: 'number' } } });
    expect(pay.input.safeParse(entries[1]?.proposed).success).toBe(true);
    expect((await engine.get(waitRun.runId)).status).toBe('waiting');
    const shown = (await engine.journal(waitRun.runId)).find((e) => e.event === 'waiting');
    expect(shown?.data).toMatchObject({ show: { customer: 'Ada', total: 42 } });
    // Answered entries leave the inbox.
    await engine.send(waitRun.runId, 'APPROVE');
    expect((await inbox(engine.store)).some((e) => e.runId === waitRun.runId)).toBe(false);
    expect((await inbox(engine.store, { workflow: 'approval' })).some((e) => e.workflow !== 'approval')).toBe(false);
  });
});

describe('the inbox shows the prompt as the model was sent it', () => {
  const record = defineTool({
    name: 'record_note',
    description: 'Record a note about an order',
    input: z.object({ orderId: z.string().min(1), amount: z.number(), note: z.string() }),
    run: (input) => ({ recorded: input.orderId }),
  });
  const notes = (prompt: string, extra: Record<string, unknown> = {}) =>
    loadDefinitionFromObject(
      { id: 'notes', steps: { note: { claude: { tool: 'record_note', prompt }, review: true, next: 'done', ...extra }, done: { final: true } } },
      [record],
      'notes',
    );
  const reviewOf = async (engine: ReturnType<Harness['engine']>, runId: string) => (await inbox(engine.store)).find((e) => e.runId === runId && e.kind === 'review');

  it('a prompt with a {% %} template is listed rendered, as the attempt under review sent it, and kept in the snapshot and the journal', async () => {
    const engine = h.engine();
    const started = await engine.start(notes('Record a note about order {% $input.orderId %} with amount 42.'), { input: { orderId: 'ORD-777' } });
    expect(started.status).toBe('waiting');
    const entry = await reviewOf(engine, started.runId);
    expect(entry).toMatchObject({ step: 'note', kind: 'review', tool: 'record_note', prompt: 'Record a note about order ORD-777 with amount 42.' });
    expect(InboxEntrySchema.parse(entry)).toEqual(entry);
    const waiting = (await engine.journal(started.runId)).find((e) => e.event === 'waiting');
    expect(waiting?.data).toMatchObject({ review: true, prompt: 'Record a note about order ORD-777 with amount 42.' });
    // Read from the stored snapshot: another process lists it the same, without evaluating anything.
    const store = createSqliteStore({ path: h.dbPath });
    h.stores.push(store);
    expect((await inbox(store)).find((e) => e.runId === started.runId)?.prompt).toBe('Record a note about order ORD-777 with amount 42.');
    expect((await engine.send(started.runId, 'APPROVE')).status).toBe('done');
  });

  it('a second visit under review lists the prompt of that visit, not the first', async () => {
    const engine = h.engine();
    const prompt = "Record a note about order {% $input.orderId %}{% $exists($steps.note.error) ? ' (rejected before: ' & $steps.note.error.message & ')' : '' %}.";
    const started = await engine.start(notes(prompt, { onReject: 'note' }), { input: { orderId: 'ORD-9' } });
    expect((await reviewOf(engine, started.runId))?.prompt).toBe('Record a note about order ORD-9.');
    const again = await engine.send(started.runId, 'REJECT', { reason: 'wrong amount' });
    expect(again.status).toBe('waiting');
    const entry = await reviewOf(engine, started.runId);
    expect(entry?.prompt).toMatch(/^Record a note about order ORD-9 \(rejected before: .*wrong amount\)\.$/);
  });

  it('a long rendered prompt is cut to REVIEW_PROMPT_MAX_CHARS, saying how much was cut', async () => {
    const engine = h.engine();
    const long = 'x'.repeat(REVIEW_PROMPT_MAX_CHARS * 3);
    const started = await engine.start(notes('Record a note about order ORD-1: {% $input.text %}'), { input: { text: long } });
    const prompt = (await reviewOf(engine, started.runId))?.prompt ?? '';
    expect(prompt.length).toBe(REVIEW_PROMPT_MAX_CHARS);
    expect(prompt.startsWith('Record a note about order ORD-1: xxx')).toBe(true);
    expect(prompt).toMatch(/…\[trimmed \d+ chars\]$/);
    const trimmed = Number(/trimmed (\d+) chars/.exec(prompt)?.[1]);
    expect(prompt.length - `…[trimmed ${trimmed} chars]`.length + trimmed).toBe('Record a note about order ORD-1: '.length + long.length);
  });

  it('a review recorded before the prompt was kept (an older snapshot) lists the definition text and is still approved', async () => {
    const engine = h.engine();
    const started = await engine.start(notes('Record a note about order {% $input.orderId %} with amount 42.'), { input: { orderId: 'ORD-5' } });
    const stored = await engine.store.get(started.runId);
    if (!stored) throw new Error('run not stored');
    const snapshot = JSON.parse(JSON.stringify(stored.snapshot)) as { context: { active: Record<string, { review?: Record<string, unknown> }> } };
    const review = snapshot.context.active['note']?.review;
    expect(review?.['prompt']).toBe('Record a note about order ORD-5 with amount 42.');
    delete review?.['prompt'];
    await engine.store.commit(started.runId, { status: stored.status, snapshot, failure: stored.failure, usage: stored.usage, wakeAt: stored.wakeAt }, [], stored.revision);
    const entry = await reviewOf(engine, started.runId);
    expect(entry?.prompt).toBe('Record a note about order {% $input.orderId %} with amount 42.');
    expect(InboxEntrySchema.parse(entry)).toEqual(entry);
    expect((await engine.send(started.runId, 'APPROVE')).status).toBe('done');
  });
});
