/**
 * The approval inbox over HTTP, on the expense-review example: `GET
 * /api/inbox` lists the steps waiting for a person; APPROVE through
 * `POST /api/runs/:id/events` takes an edited input (validated, the field
 * named when refused), and of two concurrent approvals one wins and the other
 * is refused with 409. A reviewed prompt holding a `{% %}` template is listed
 * as the model was sent it. A wait whose timeout passed is no longer listed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InboxSchema } from '../../src/server/schemas.js';
import type { ManualClock } from '../../src/engine/clock.js';
import { invoiceInput, root, startApi, type Api } from './helpers.js';

const input = () => JSON.parse(readFileSync(join(root, 'definitions', 'expense-review.input.json'), 'utf8')) as unknown;

let api: Api;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

async function entriesOf(runId: string) {
  const res = await api.call('GET', '/api/inbox');
  expect(res.status).toBe(200);
  expect(InboxSchema.parse(res.json)).toEqual(res.json);
  return (res.json.entries as Array<Record<string, any>>).filter((e) => e.runId === runId);
}

describe('GET /api/inbox and reviews over HTTP', () => {
  it('needs the bearer token and is in the OpenAPI document', async () => {
    expect((await api.call('GET', '/api/inbox', undefined, { token: null })).status).toBe(401);
    const doc = await api.call('GET', '/openapi.json', undefined, { token: null });
    expect(Object.keys(doc.json.paths)).toContain('/api/inbox');
    expect(doc.json.components.schemas.InboxEntry).toBeDefined();
    expect(doc.json.components.schemas.Event.properties.step).toBeDefined();
  });

  it('lists a review, refuses an invalid edit naming the field, lets one of two concurrent APPROVEs win, then lists the sign-off with its show data', async () => {
    const started = await api.call('POST', '/api/runs', { workflow: 'expense-review', input: input() });
    expect(started.status).toBe(201);
    expect(started.json.status).toBe('waiting');
    const runId = started.json.runId as string;

    const [review] = await entriesOf(runId);
    expect(review).toMatchObject({ workflow: 'expense-review', step: 'draft', kind: 'review', events: ['APPROVE', 'REJECT'], tool: 'reimburse_expense', prompt: 'Draft the reimbursement of this expense report.' });
    expect(review?.schema).toMatchObject({ type: 'object', required: expect.arrayContaining(['amount']) });
    const proposed = review?.proposed as Record<string, unknown>;

    const invalid = await api.call('POST', `/api/runs/${runId}/events`, { type: 'APPROVE', step: 'draft', data: { input: { ...proposed, amount: -5 } } });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error).toMatchObject({ code: 'event_invalid', field: 'data.input.amount' });
    expect(await entriesOf(runId)).toHaveLength(1);

    const edited = { ...proposed, amount: 1500 };
    const answers = await Promise.all([
      api.call('POST', `/api/runs/${runId}/events`, { type: 'APPROVE', step: 'draft', data: { input: edited } }),
      api.call('POST', `/api/runs/${runId}/events`, { type: 'APPROVE', step: 'draft', data: { input: edited } }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const won = answers.find((a) => a.status === 200)!;
    expect(won.json).toMatchObject({ status: 'waiting', waitingFor: { step: 'finance_signoff', events: ['SIGN', 'DECLINE'] } });
    expect(answers.find((a) => a.status === 409)!.json.error.code).toBe('event_not_accepted');

    const [signoff] = await entriesOf(runId);
    expect(signoff).toMatchObject({ step: 'finance_signoff', kind: 'wait', events: ['SIGN', 'DECLINE'], prompt: 'Finance signs off reimbursements over 1000.' });
    expect(signoff?.show).toEqual({ employee: proposed['employee'], amount: 1500, currency: proposed['currency'], category: proposed['category'] });

    const detail = await api.call('GET', `/api/runs/${runId}`);
    const approval = (detail.json.journal as Array<Record<string, any>>).find((e) => e.event === 'event' && e.data.type === 'APPROVE');
    expect(approval?.data).toMatchObject({ by: 'ops-team', edits: [{ path: 'amount', from: proposed['amount'], to: 1500 }] });

    const signed = await api.call('POST', `/api/runs/${runId}/events`, { type: 'SIGN' });
    expect(signed.json).toMatchObject({ status: 'done', output: { decision: 'reimbursed', payment: { amount: 1500, status: 'scheduled' } } });
    expect(await entriesOf(runId)).toEqual([]);
  });

  it('REJECT with a reason takes onReject', async () => {
    const started = await api.call('POST', '/api/runs', { workflow: 'expense-review', input: input() });
    const rejected = await api.call('POST', `/api/runs/${started.json.runId}/events`, { type: 'REJECT', data: { reason: 'no receipts' } });
    expect(rejected.status).toBe(200);
    expect(rejected.json).toMatchObject({ status: 'done', output: { decision: 'declined', reason: expect.stringContaining('no receipts') } });
  });
});

describe('GET /api/inbox: the prompt of a review', () => {
  it('is the prompt rendered as the model got it, not the {% %} template of the definition', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-inbox-prompt-'));
    writeFileSync(
      join(dir, 'order-note.yaml'),
      [
        'id: order-note',
        `tools: ${JSON.stringify(join(root, 'definitions', 'tools', 'expense.ts'))}`,
        'steps:',
        '  draft:',
        '    claude:',
        '      tool: reimburse_expense',
        '      prompt: "Record a note about order {% $input.orderId %} with amount 42."',
        '    review: true',
        '    next: done',
        '  done: { final: true }',
        '',
      ].join('\n'),
    );
    const own = await startApi({ definitions: dir });
    try {
      const started = await own.call('POST', '/api/runs', { workflow: 'order-note', input: { orderId: 'ORD-777' } });
      expect(started.status).toBe(201);
      expect(started.json.status).toBe('waiting');
      const res = await own.call('GET', '/api/inbox?workflow=order-note');
      expect(res.status).toBe(200);
      expect(InboxSchema.parse(res.json)).toEqual(res.json);
      expect(res.json.entries).toHaveLength(1);
      expect(res.json.entries[0]).toMatchObject({ runId: started.json.runId, step: 'draft', kind: 'review', prompt: 'Record a note about order ORD-777 with amount 42.' });
      expect(res.text).not.toContain('{%');
    } finally {
      await own.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GET /api/inbox: a wait whose window closed', () => {
  it('is left out once its timeout passed on the server\'s clock, though nothing fired it yet; approving it is a 409', async () => {
    // A server of its own: its clock is moved past the invoice's 72 h approval window.
    const late = await startApi();
    try {
      const { json: run } = await late.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput() });
      expect(run.waitingFor).toMatchObject({ step: 'cfo_approval', timeoutAt: late.engine.clock.now() + 72 * 3_600_000 });
      const listed = async () => ((await late.call('GET', '/api/inbox')).json.entries as Array<{ runId: string; step: string }>).map((e) => [e.runId, e.step]);
      expect(await listed()).toEqual([[run.runId, 'cfo_approval']]);

      (late.engine.clock as ManualClock).advance(72 * 3_600_000);
      expect(await listed()).toEqual([]);
      expect((await late.call('GET', `/api/runs/${run.runId}`)).json.status).toBe('waiting'); // the inbox fired nothing
      const refused = await late.call('POST', `/api/runs/${run.runId}/events`, { type: 'APPROVE' });
      expect(refused.status).toBe(409);
      expect((await late.call('GET', `/api/runs/${run.runId}`)).json).toMatchObject({ status: 'done', output: { decision: 'escalated' } });
    } finally {
      await late.close();
    }
  });
});
