/**
 * Property-based fuzzing of the API's payloads (fast-check) against a real
 * server: whatever arrives, no answer is a 500, the server keeps answering,
 * and every 400 names the field at fault (`error.field`, repeated in the
 * message). The case counts are printed.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, invoiceInput, type Api } from './helpers.js';

let api: Api;
let waitingRun: string;
const counts: Record<string, number> = {};
beforeAll(async () => {
  api = await startApi({ maxBodyBytes: 8 * 1024, maxEventDataBytes: 512, maxPage: 50 });
  waitingRun = (await api.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput() })).json.runId;
});
afterAll(async () => {
  process.stdout.write(`fuzz cases: ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ')}\n`);
  await api?.close();
});

const FUZZ = { numRuns: 150, seed: 20261201 };

/** What every answer must satisfy; returns the status. */
function check(label: string, res: { status: number; json: any; text: string }): number {
  counts[label] = (counts[label] ?? 0) + 1;
  expect(res.status, res.text).not.toBe(500);
  expect([200, 201, 400, 404, 409, 413, 415, 422], res.text).toContain(res.status);
  expect(res.json?.error === undefined || typeof res.json.error.message === 'string').toBe(true);
  if (res.status === 400) {
    const field: unknown = res.json.error.field;
    expect(typeof field === 'string' && field.length > 0, res.text).toBe(true);
    expect(res.json.error.message, res.text).toContain(String(field).split('.')[0]);
  }
  return res.status;
}

const anyJson = fc.jsonValue({ maxDepth: 3 });
const text = fc.string({ maxLength: 40 });
const workflowIds = fc.oneof(fc.constantFrom('invoice-approval', 'support-triage', 'no-such', '../etc/passwd', '', 'a'.repeat(200)), text);
const runIds = fc.oneof(fc.constantFrom('a', 'abcd', 'x'.repeat(129), '../../x', '%2e%2e', 'r1'), fc.string({ minLength: 1, maxLength: 20 }));
const eventTypes = fc.oneof(fc.constantFrom('APPROVE', 'REJECT', 'ESCALATE', 'approve', '', 'A'.repeat(100), 'run.cancel', 'xstate.init'), text);
const withExtra = (base: fc.Arbitrary<Record<string, unknown>>) =>
  fc.tuple(base, fc.option(fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 2 }), { nil: undefined })).map(([b, extra]) => ({ ...extra, ...b }));

describe('fuzz', () => {
  it('POST /api/runs with any body', async () => {
    const body = fc.oneof(
      anyJson,
      withExtra(fc.record({ workflow: fc.oneof(workflowIds, anyJson), input: anyJson, id: fc.oneof(runIds, anyJson) }, { requiredKeys: [] })),
    );
    await fc.assert(fc.asyncProperty(body, async (b) => void check('POST /api/runs', await api.call('POST', '/api/runs', b))), FUZZ);
  });

  it('POST /api/runs/:id/events with any body and id', async () => {
    const body = fc.oneof(anyJson, withExtra(fc.record({ type: fc.oneof(eventTypes, anyJson), data: anyJson }, { requiredKeys: [] })));
    const id = fc.oneof(fc.constant(waitingRun), runIds);
    await fc.assert(
      fc.asyncProperty(id, body, async (runId, b) => void check('POST events', await api.call('POST', `/api/runs/${encodeURIComponent(runId)}/events`, b))),
      FUZZ,
    );
  });

  it('GET /api/runs with any query', async () => {
    const keys = fc.constantFrom('status', 'workflow', 'since', 'until', 'minCost', 'maxCost', 'limit', 'cursor', 'sort', 'offset', 'children');
    const values = fc.oneof(text, fc.integer().map(String), fc.constantFrom('waiting,done', 'waiting,,', '2026-01-01', '1e309', '0', '51', '-1', '0.5', 'W1tdXQ', 'bm90IGpzb24', 'true', 'false'));
    const query = fc.array(fc.tuple(keys, values), { maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(query, async (pairs) => {
        const qs = new URLSearchParams(pairs).toString();
        check('GET /api/runs', await api.call('GET', `/api/runs${qs ? `?${qs}` : ''}`));
      }),
      FUZZ,
    );
  });

  it('cancel and rerun with any body, raw bodies and content types', async () => {
    const raw = fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('{', '[]', 'null', '{"workflow":', '\u0000', '{"from":"extract"}'));
    const path = fc.constantFrom('/api/runs', '/api/runs/ID/events', '/api/runs/ID/cancel', '/api/runs/ID/rerun');
    const type = fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8');
    await fc.assert(
      fc.asyncProperty(path, raw, type, async (p, r, t) => {
        check('raw bodies', await api.call('POST', p.replace('ID', waitingRun), undefined, { raw: r, headers: { 'content-type': t } }));
      }),
      FUZZ,
    );
    const body = fc.oneof(anyJson, withExtra(fc.record({ from: fc.oneof(fc.constantFrom('extract', 'validate', 'pay', 'nowhere'), text), reason: text, id: runIds }, { requiredKeys: [] })));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('cancel', 'rerun'), body, async (what, b) => {
        check(`POST ${what}`, await api.call('POST', `/api/runs/${waitingRun}/${what}`, b));
      }),
      { ...FUZZ, numRuns: 60 },
    );
    expect(check('GET /health', await api.call('GET', '/health'))).toBe(200);
  });
});
