/** The HTTP API end to end: a real server on 127.0.0.1, a SQLite file, the emulator as the model. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import type { ManualClock } from '../../src/engine/clock.js';
import { defineTool } from '../../src/tools/define.js';
import { showRun } from '../../src/query/show.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { startApi, invoiceInput, TOKEN, type Api } from './helpers.js';

let api: Api;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

const start = (id?: string) => api.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput(), ...(id ? { id } : {}) });

describe('auth', () => {
  it('GET /health needs no token; every /api route needs the bearer token', async () => {
    expect((await api.call('GET', '/health', undefined, { token: null })).json).toEqual({ status: 'ok' });
    const none = await api.call('GET', '/api/runs', undefined, { token: null });
    expect(none.status).toBe(401);
    expect(none.json.error.field).toBe('authorization');
    const wrong = await api.call('POST', '/api/runs', { workflow: 'invoice-approval' }, { token: 'not-it' });
    expect(wrong.status).toBe(401);
    expect((await api.call('GET', '/api/runs', undefined, { token: `${TOKEN}x` })).status).toBe(401);
    expect((await api.call('GET', '/api/runs')).status).toBe(200);
  });
});

describe('runs', () => {
  it('POST /api/runs of a run whose deadline passes while its tool call hangs answers at the deadline: failed, kind deadline', async () => {
    const called: string[] = [];
    const hang = defineTool({
      name: 'hang',
      description: 'Never answers; honours its signal',
      input: z.object({}),
      run: (_input, { signal }) => new Promise((_resolve, reject) => (called.push('hang'), signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }))),
    });
    const definition = loadDefinitionFromObject({ id: 'hangs', deadline: '2s', steps: { call: { tool: 'hang', with: {}, next: 'done' }, done: { final: true } } }, [hang], 'hangs');
    const own = await startApi({ definitions: { get: async () => definition } });
    try {
      const answer = own.call('POST', '/api/runs', { workflow: 'hangs' });
      for (let i = 0; i < 400 && called.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(called).toEqual(['hang']);
      (own.engine.clock as ManualClock).advance(2000);
      const { status, json } = await answer;
      expect(status).toBe(201);
      expect(json).toMatchObject({ status: 'failed', resumable: false, failure: { kind: 'deadline', step: 'call' } });
    } finally {
      await own.close();
    }
  });

  it('POST /api/runs answers the run object of `run --json`; GET /api/runs/:id the object of `show --json`', async () => {
    const started = await start();
    expect(started.status).toBe(201);
    expect(Object.keys(started.json).sort()).toEqual(
      ['runId', 'workflow', 'version', 'status', 'resumable', 'redrivable', 'output', 'usage', 'budget', 'steps', 'waitingFor', 'waits', 'failure', 'createdAt', 'createdAtIso', 'updatedAt', 'updatedAtIso'].sort(),
    );
    expect(started.json.status).toBe('waiting');
    expect(started.json.waitingFor.events).toEqual(['APPROVE', 'REJECT']);
    const got = await api.call('GET', `/api/runs/${started.json.runId}`);
    expect(got.status).toBe(200);
    expect(got.json).toEqual(JSON.parse(JSON.stringify(await showRun(api.store, started.json.runId))));
  });

  it('a run that failed in a map with failed items is redrivable in the run object, the run detail and the schema', async () => {
    // Two unknown SKUs: one more than the map tolerates.
    const lines = [{ sku: 'SK-9', quantity: 1, unitPrice: 25 }, { sku: 'NO-1', quantity: 1, unitPrice: 1 }, { sku: 'NO-2', quantity: 1, unitPrice: 1 }];
    const failed = await api.call('POST', '/api/runs', { workflow: 'invoice-line-items', input: { invoiceNumber: 'INV-9', lines } });
    expect(failed.status).toBe(201);
    expect(failed.json).toMatchObject({ status: 'failed', redrivable: true });
    expect((await api.call('GET', `/api/runs/${failed.json.runId}`)).json).toMatchObject({ status: 'failed', redrivable: true });
    const fine = await api.call('POST', '/api/runs', { workflow: 'invoice-line-items', input: { invoiceNumber: 'INV-8', lines: lines.slice(0, 1) } });
    expect(fine.json).toMatchObject({ status: 'done', redrivable: false });
    const doc = await api.call('GET', '/openapi.json', undefined, { token: null });
    expect(doc.json.components.schemas.Run.properties.redrivable.type).toBe('boolean');
    expect(doc.json.components.schemas.Run.required).toContain('redrivable');
  });

  it('starting the same id again answers the existing run (200)', async () => {
    const first = await start('fixed-id-1');
    expect(first.status).toBe(201);
    const again = await start('fixed-id-1');
    expect(again.status).toBe(200);
    expect(again.json.runId).toBe('fixed-id-1');
    expect(again.json.createdAt).toBe(first.json.createdAt);
  });

  it('an unknown workflow is a 404 naming `workflow`; bad input a 400 naming `input`', async () => {
    const unknown = await api.call('POST', '/api/runs', { workflow: 'no-such-flow', input: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.field).toBe('workflow');
    const bad = await api.call('POST', '/api/runs', { workflow: 'invoice-approval', input: { document: 42 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('input');
    const missing = await api.call('GET', '/api/runs/zzzz-not-there');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('run_not_found');
  });
});

describe('events', () => {
  it('an event the run does not wait for is a 409 and changes nothing', async () => {
    const { json: run } = await start();
    const before = await api.call('GET', `/api/runs/${run.runId}`);
    const refused = await api.call('POST', `/api/runs/${run.runId}/events`, { type: 'ESCALATE' });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('event_not_accepted');
    expect((await api.call('GET', `/api/runs/${run.runId}`)).json).toEqual(before.json);
  });

  it('two concurrent approvals: one wins, the other is a 409; the journal records who sent it', async () => {
    const { json: run } = await start();
    const [a, b] = await Promise.all([
      api.call('POST', `/api/runs/${run.runId}/events`, { type: 'APPROVE', data: { note: 'a' } }),
      api.call('POST', `/api/runs/${run.runId}/events`, { type: 'APPROVE', data: { note: 'b' } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? a : b;
    expect(winner.json.status).toBe('done');
    const detail = await api.call('GET', `/api/runs/${run.runId}`);
    const events = detail.json.journal.filter((e: { event: string }) => e.event === 'event');
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({ type: 'APPROVE', by: 'ops-team' });
    expect(JSON.stringify(detail.json.timeline)).toContain('APPROVE by ops-team');
  });

  it('an approval that comes after the wait timed out is a 409; the timeout fired first and stays committed', async () => {
    // A server of its own: its clock is moved past the invoice's 72 h approval window.
    const late = await startApi();
    try {
      const { json: run } = await late.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput() });
      expect(run.waitingFor.timeoutAt).toBe(late.engine.clock.now() + 72 * 3_600_000);
      (late.engine.clock as ManualClock).advance(73 * 3_600_000);
      const refused = await late.call('POST', `/api/runs/${run.runId}/events`, { type: 'APPROVE' });
      expect(refused.status).toBe(409);
      expect(refused.json.error.code).toBe('event_not_accepted');
      expect(refused.json.error.message).toContain('the wait at "cfo_approval" timed out');
      const detail = (await late.call('GET', `/api/runs/${run.runId}`)).json;
      expect(detail).toMatchObject({ status: 'done', output: { decision: 'escalated' } });
      expect(detail.journal.filter((e: { event: string }) => e.event === 'timeout')).toHaveLength(1);
      expect(detail.journal.some((e: { event: string }) => e.event === 'event')).toBe(false);
    } finally {
      await late.close();
    }
  });

  it('a cancel that comes after the wait timed out finds the run escalated by its timeout, not cancelled', async () => {
    const late = await startApi();
    try {
      const { json: run } = await late.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput() });
      expect(run.status).toBe('waiting');
      (late.engine.clock as ManualClock).advance(73 * 3_600_000);
      const cancelled = await late.call('POST', `/api/runs/${run.runId}/cancel`, { reason: 'too late' });
      expect(cancelled.status).toBe(200);
      expect(cancelled.json).toMatchObject({ status: 'done', output: { decision: 'escalated' }, failure: null });
      const detail = (await late.call('GET', `/api/runs/${run.runId}`)).json;
      expect(detail.journal.filter((e: { event: string }) => e.event === 'timeout')).toHaveLength(1);
      expect(detail.journal.some((e: { event: string }) => e.event === 'cancelled')).toBe(false);
    } finally {
      await late.close();
    }
  });

  it('cancel and rerun', async () => {
    const { json: run } = await start();
    const cancelled = await api.call('POST', `/api/runs/${run.runId}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe('cancelled');
    const rerun = await api.call('POST', `/api/runs/${run.runId}/rerun`, { from: 'validate' });
    expect(rerun.status).toBe(201);
    expect(rerun.json.runId).not.toBe(run.runId);
    expect(rerun.json.status).toBe('waiting');
    const badStep = await api.call('POST', `/api/runs/${run.runId}/rerun`, { from: 'nowhere' });
    expect(badStep.status).toBe(400);
  });
});

describe('cancel of a run the server is starting', () => {
  /** A SQLite store whose `create` (a new run's first commit, when its first step starts) waits until `open()`. */
  function heldCreates(store: Store) {
    let reached!: () => void;
    const creating = new Promise<void>((resolve) => (reached = resolve));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let requested!: () => void;
    const cancelWritten = new Promise<void>((resolve) => (requested = resolve));
    const held: Store = Object.assign(Object.create(store) as Store, {
      async create(...args: Parameters<Store['create']>) {
        reached();
        await gate;
        return store.create(...args);
      },
      async updateShared(...args: Parameters<Store['updateShared']>) {
        const result = await store.updateShared(...args);
        if (String(args[0]).startsWith('cancel:')) requested();
        return result;
      },
    });
    return { store: held, creating, open, cancelWritten };
  }

  it('before its first step is stored: the cancel is taken (200), and the start answers the run cancelled (201)', async () => {
    let held!: ReturnType<typeof heldCreates>;
    const early = await startApi({}, (engine) => engine, (dir) => (held = heldCreates(createSqliteStore({ path: join(dir, 'runs.db') }))).store);
    try {
      const starting = early.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput(), id: 'early-http-1' });
      await held.creating;
      const cancelling = early.call('POST', '/api/runs/early-http-1/cancel', { reason: 'wrong invoice' });
      await Promise.race([held.cancelWritten, cancelling]); // a cancel answered at once (404) ends the wait here
      held.open();
      const cancelled = await cancelling;
      expect(cancelled.status, cancelled.text).toBe(200);
      expect(cancelled.json).toMatchObject({ runId: 'early-http-1', status: 'cancelled', failure: { kind: 'cancelled', message: 'wrong invoice' } });
      const started = await starting;
      expect(started.status).toBe(201);
      expect(started.json).toMatchObject({ runId: 'early-http-1', status: 'cancelled', usage: { totalTokens: 0 } });
      const unknown = await early.call('POST', '/api/runs/zzzz-not-there/cancel', {});
      expect(unknown.status).toBe(404);
      expect(unknown.json.error.code).toBe('run_not_found');
    } finally {
      await early.close();
    }
  });
});

describe('list', () => {
  it('filters by status and workflow, pages with a cursor, and limits the page', async () => {
    const waiting = await api.call('GET', '/api/runs?status=waiting&workflow=invoice-approval');
    expect(waiting.status).toBe(200);
    expect(waiting.json.runs.length).toBeGreaterThan(1);
    expect(waiting.json.runs.every((r: { status: string }) => r.status === 'waiting')).toBe(true);
    const all = (await api.call('GET', '/api/runs?limit=500')).json.runs as Array<{ runId: string; usd: number }>;
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { json: { runs: Array<{ runId: string }>; nextCursor: string | null } } = await api.call('GET', `/api/runs?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.json.runs.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.runs.map((r) => r.runId));
      cursor = page.json.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.runId));
    const costly = await api.call('GET', '/api/runs?minCost=1000');
    expect(costly.json.runs).toEqual([]);
    const future = await api.call('GET', `/api/runs?since=${new Date(Date.now() + 86_400_000 * 365 * 50).toISOString()}`);
    expect(future.json.runs).toEqual([]);
    const tooMany = await api.call('GET', '/api/runs?limit=100000');
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.field).toBe('limit');
    const badStatus = await api.call('GET', '/api/runs?status=sleeping');
    expect(badStatus.status).toBe(400);
    expect(badStatus.json.error.field).toMatch(/^status/);
  });
});

describe('openapi', () => {
  it('serves /openapi.json describing the routes and their schemas', async () => {
    const doc = await api.call('GET', '/openapi.json', undefined, { token: null });
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(['/health', '/api/runs', '/api/runs/{id}', '/api/runs/{id}/events', '/api/runs/{id}/cancel', '/api/runs/{id}/rerun', '/api/runs/{id}/stream']),
    );
    expect(doc.json.components.schemas.StartRun.required).toEqual(['workflow']);
  });
});
