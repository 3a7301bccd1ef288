/** The web UI's sessions: a token posted once becomes an HttpOnly cookie; cookie requests that change something need the CSRF token. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, invoiceInput, TOKEN, type Api } from './helpers.js';
import { createSessions } from '../../src/server/session.js';

let api: Api;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

/** Logs in with the token; answers the cookie pair to send back and the CSRF token. */
async function login(): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await fetch(`${api.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { by: string; csrfToken: string };
  expect(body.by).toBe('ops-team');
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0]!, csrf: body.csrfToken, setCookie };
}

describe('sessions', () => {
  it('POST /api/session sets an HttpOnly, SameSite=Strict, Path=/ cookie holding a random id, never the token', async () => {
    const { setCookie, cookie, csrf } = await login();
    expect(setCookie).toMatch(/^stepwise_session=[A-Za-z0-9_-]{40,};/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).not.toContain(TOKEN);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const again = await login();
    expect(again.cookie).not.toBe(cookie);
    expect(again.csrf).not.toBe(csrf);
  });

  it('a wrong token is a 401 naming `token`, and neither the token nor the answer leaks it', async () => {
    const res = await fetch(`${api.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'guess-123' }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    const text = await res.text();
    expect(text).not.toContain('guess-123');
    expect(JSON.parse(text).error.field).toBe('token');
    expect(api.logs.join('\n')).not.toContain('guess-123');
    expect(api.logs.join('\n')).not.toContain(TOKEN);
  });

  it('the cookie reads without CSRF; a POST by cookie without X-CSRF-Token is a 403 that changes nothing, with it the event goes through', async () => {
    const { cookie, csrf } = await login();
    const { json: run } = await api.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput() });
    expect(run.status).toBe('waiting');
    const read = await api.call('GET', `/api/runs/${run.runId}`, undefined, { token: null, headers: { cookie } });
    expect(read.status).toBe(200);
    const who = await api.call('GET', '/api/session', undefined, { token: null, headers: { cookie } });
    expect(who.json).toEqual({ by: 'ops-team', csrfToken: csrf });

    const missing = await api.call('POST', `/api/runs/${run.runId}/events`, { type: 'APPROVE' }, { token: null, headers: { cookie } });
    expect(missing.status).toBe(403);
    expect(missing.json.error.code).toBe('csrf_failed');
    expect(missing.json.error.field).toBe('x-csrf-token');
    const wrong = await api.call('POST', `/api/runs/${run.runId}/events`, { type: 'APPROVE' }, { token: null, headers: { cookie, 'x-csrf-token': `${csrf}x` } });
    expect(wrong.status).toBe(403);
    expect((await api.call('GET', `/api/runs/${run.runId}`)).json.status).toBe('waiting');

    const sent = await api.call('POST', `/api/runs/${run.runId}/events`, { type: 'APPROVE' }, { token: null, headers: { cookie, 'x-csrf-token': csrf } });
    expect(sent.status).toBe(200);
    expect(sent.json.status).toBe('done');
    const journal = (await api.call('GET', `/api/runs/${run.runId}`)).json.journal as Array<{ event: string; data?: { by?: string } }>;
    expect(journal.find((e) => e.event === 'event')?.data?.by).toBe('ops-team');
  });

  it('bearer requests need no CSRF token; /health needs nothing; no cookie and no token is a 401', async () => {
    const { json: run } = await api.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput() });
    expect((await api.call('POST', `/api/runs/${run.runId}/events`, { type: 'REJECT' })).status).toBe(200);
    expect((await api.call('GET', '/health', undefined, { token: null })).status).toBe(200);
    expect((await api.call('GET', '/api/runs', undefined, { token: null })).status).toBe(401);
    expect((await api.call('GET', '/api/runs', undefined, { token: null, headers: { cookie: 'stepwise_session=forged' } })).status).toBe(401);
    // A forged cookie with a valid bearer token: the bearer decides.
    expect((await api.call('GET', '/api/runs', undefined, { headers: { cookie: 'stepwise_session=forged' } })).status).toBe(200);
  });

  it('logout needs the CSRF token, ends the session and clears the cookie', async () => {
    const { cookie, csrf } = await login();
    expect((await api.call('DELETE', '/api/session', undefined, { token: null, headers: { cookie } })).status).toBe(403);
    const res = await fetch(`${api.url}/api/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/^stepwise_session=;.*Max-Age=0/);
    expect((await api.call('GET', '/api/runs', undefined, { token: null, headers: { cookie } })).status).toBe(401);
  });
});

describe('the UI', () => {
  it('GET / serves the page, script and styles without a token, under a strict Content-Security-Policy', async () => {
    for (const [path, type] of [['/', 'text/html'], ['/ui/app.js', 'text/javascript'], ['/ui/style.css', 'text/css']] as const) {
      const res = await fetch(`${api.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect(await (await fetch(`${api.url}/`)).text()).toContain('<script type="module" src="/ui/app.js">');
  });

  it('GET /api/runs/:id/diagram.svg draws the workflow with the step the run waits at outlined', async () => {
    const { json: run } = await api.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput() });
    const res = await fetch(`${api.url}/api/runs/${run.runId}/diagram.svg`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('image/svg+xml');
    const svg = await res.text();
    expect(svg).toContain('<svg');
    // Graphviz writes each node as a <g class="node"> titled with its id; the active one is drawn orange, visited ones blue.
    const node = (id: string) => svg.slice(svg.indexOf(`<title>${id}</title>`), svg.indexOf('</g>', svg.indexOf(`<title>${id}</title>`)));
    expect(node('cfo_approval')).toContain('#b8460b');
    expect(node('extract')).toContain('#1d4ed8');
    expect(node('pay')).not.toContain('#1d4ed8');
    expect((await fetch(`${api.url}/api/runs/${run.runId}/diagram.svg`)).status).toBe(401);
  });
});

describe('GET /api/runs sort and order', () => {
  it('sorts by cost ascending and descending, pages with a cursor of that sort, and rejects an unknown sort naming `sort`', async () => {
    const all = (await api.call('GET', '/api/runs?sort=usd&order=asc&limit=500')).json.runs as Array<{ runId: string; usd: number }>;
    expect(all.length).toBeGreaterThan(2);
    const costs = all.map((r) => r.usd);
    expect(costs).toEqual([...costs].sort((a, b) => a - b));
    const desc = (await api.call('GET', '/api/runs?sort=usd&order=desc&limit=500')).json.runs as Array<{ runId: string }>;
    expect(desc.map((r) => r.runId)).toEqual(all.map((r) => r.runId).reverse());
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { json: { runs: Array<{ runId: string }>; nextCursor: string | null } } = await api.call('GET', `/api/runs?sort=usd&order=asc&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.json.runs.map((r) => r.runId));
      cursor = page.json.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.runId));
    const bad = await api.call('GET', '/api/runs?sort=price');
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('sort');
    const first = (await api.call('GET', '/api/runs?sort=usd&limit=1')).json.nextCursor as string;
    const mixed = await api.call('GET', `/api/runs?sort=tokens&cursor=${first}`);
    expect(mixed.status).toBe(400);
    expect(mixed.json.error.field).toBe('cursor');
  });
});

describe('the session table', () => {
  it('past `max`, a login ends the least recently used session; an idle one ends on its next use', () => {
    let clock = 0;
    const sessions = createSessions({ max: 2, idleMs: 100, now: () => clock });
    const a = sessions.create('a');
    const b = sessions.create('b');
    clock = 10;
    expect(sessions.get(a.id)?.by).toBe('a'); // a is now the most recently used
    const c = sessions.create('c');
    expect(sessions.get(b.id)).toBeUndefined();
    expect(sessions.get(a.id)?.by).toBe('a');
    expect(sessions.get(c.id)?.by).toBe('c');
    clock = 200;
    expect(sessions.get(a.id)).toBeUndefined();
  });

  it('a `max` below one still keeps the newest session', () => {
    const sessions = createSessions({ max: 0 });
    const a = sessions.create('a');
    const b = sessions.create('b');
    expect(sessions.get(a.id)).toBeUndefined();
    expect(sessions.get(b.id)?.by).toBe('b');
  });
});
