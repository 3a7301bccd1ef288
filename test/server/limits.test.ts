/** The API's edges: body size (413), event data and page limits (400 naming the field), no secret in answers or logs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { createServer } from '../../src/server/app.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { startApi, invoiceInput, TOKEN, type Api } from './helpers.js';

let api: Api;
beforeAll(async () => {
  api = await startApi({ maxBodyBytes: 16 * 1024, maxEventDataBytes: 1024, maxPage: 20 });
});
afterAll(async () => {
  await api?.close();
});

describe('limits', () => {
  it('a body over the limit is a 413 naming `body`, and starts nothing', async () => {
    const before = (await api.call('GET', '/api/runs?limit=20')).json.runs.length;
    const big = await api.call('POST', '/api/runs', { workflow: 'invoice-approval', input: { document: 'x'.repeat(20 * 1024) } });
    expect(big.status).toBe(413);
    expect(big.json.error).toMatchObject({ code: 'payload_too_large', field: 'body' });
    expect((await api.call('GET', '/api/runs?limit=20')).json.runs.length).toBe(before);
  });

  it('event data over its limit is a 400 naming `data`, and changes nothing', async () => {
    const { json: run } = await api.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput() });
    const res = await api.call('POST', `/api/runs/${run.runId}/events`, { type: 'APPROVE', data: { note: 'y'.repeat(2000) } });
    expect(res.status).toBe(400);
    expect(res.json.error.field).toBe('data');
    expect(res.json.error.message).toContain('data');
    expect((await api.call('GET', `/api/runs/${run.runId}`)).json.status).toBe('waiting');
  });

  it('a page over the limit is a 400 naming `limit`', async () => {
    const res = await api.call('GET', '/api/runs?limit=21');
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ field: 'limit' });
    expect(res.json.error.message).toContain('at most 20');
  });

  it('malformed JSON, a wrong content type and unknown fields are rejected naming what is wrong', async () => {
    const malformed = await api.call('POST', '/api/runs', undefined, { raw: '{"workflow": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.field).toBe('body');
    const extra = await api.call('POST', '/api/runs', { workflow: 'invoice-approval', inptu: {} });
    expect(extra.status).toBe(400);
    expect(extra.json.error.field).toBe('inptu');
    const text = await api.call('POST', '/api/runs', undefined, { raw: 'workflow=x', headers: { 'content-type': 'text/plain' } });
    // As the README says: 415 for a body that is not sent as JSON, with the usual error shape.
    expect(text.status).toBe(415);
    expect(text.json.error.message).toBeTruthy();
  });

  it('the token appears in no answer and no log line', async () => {
    const answers = [
      await api.call('GET', '/api/runs', undefined, { token: `${TOKEN}-wrong` }),
      await api.call('GET', '/api/runs'),
      await api.call('GET', '/openapi.json'),
      await api.call('GET', '/api/runs/no-such-run'),
      await api.call('POST', '/api/runs', { workflow: 'invoice-approval', input: { document: 1 } }),
    ];
    for (const a of answers) expect(a.text).not.toContain(TOKEN);
    expect(api.logs.join('\n')).not.toContain(TOKEN);
  });

  it('a server without a token is refused, and one with auth off listens only on loopback', async () => {
    const engine = createEngine({ store: createMemoryStore(), model: { apiKey: 'unused' } });
    expect(() => createServer(engine)).toThrow(/token/);
    await expect(createServer(engine, { auth: false }).listen({ host: '0.0.0.0', port: 0 })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without a token/);
    const local = await createServer(engine, { auth: false }).listen({ host: '127.0.0.1', port: 0 });
    expect((await fetch(`${local.url}/api/runs`)).status).toBe(200);
    await local.close();
  });
});
