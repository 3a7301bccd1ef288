/** `GET /api/runs/:id/stream`: Server-Sent Events of a run's commits, live; a client that leaves mid-stream harms nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../budgets.js';
import { startApi, invoiceInput, TOKEN, type Api } from './helpers.js';

let api: Api;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

interface SseEvent {
  event: string;
  data: any;
}

/** Reads SSE events from a response body, handing each to `onEvent`, until the stream ends. */
async function readEvents(res: Response, onEvent: (e: SseEvent) => void | Promise<void>): Promise<void> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) await onEvent({ event, data: JSON.parse(data) });
    }
  }
}

const openStream = (runId: string, signal?: AbortSignal) =>
  fetch(`${api.url}/api/runs/${runId}/stream`, { headers: { authorization: `Bearer ${TOKEN}` }, ...(signal ? { signal } : {}) });

describe('stream', () => {
  it('sends the run as it is, then each commit the event causes, and ends when the run is done', async () => {
    const { json: run } = await api.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput() });
    const res = await openStream(run.runId);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const seen: string[] = [];
    let sent: Promise<unknown> | undefined;
    await readEvents(res, (e) => {
      expect(e.event).toBe('run');
      seen.push(e.data.status);
      // Only once the stream is open and has the first event is the approval sent: what follows is live.
      if (!sent) sent = api.call('POST', `/api/runs/${run.runId}/events`, { type: 'APPROVE' });
    });
    expect((await sent)).toMatchObject({ status: 200 });
    expect(seen[0]).toBe('waiting');
    expect(seen[seen.length - 1]).toBe('done');
    expect(seen.length).toBeGreaterThan(2);
  });

  it('needs the token, and answers 404 for an unknown run', async () => {
    expect((await fetch(`${api.url}/api/runs/whatever/stream`)).status).toBe(401);
    expect((await openStream('nope-not-a-run')).status).toBe(404);
  });

  it('survives clients that disconnect mid-stream: each one is unsubscribed, and the next one is served', async () => {
    let subscribed = 0;
    const own = await startApi({}, (engine) => ({
      ...engine,
      subscribe(listener) {
        subscribed += 1;
        const off = engine.subscribe(listener);
        return () => {
          subscribed -= 1;
          return off();
        };
      },
    }));
    try {
      const { json: run } = await own.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput() });
      const stream = (signal?: AbortSignal) => fetch(`${own.url}/api/runs/${run.runId}/stream`, { headers: { authorization: `Bearer ${TOKEN}` }, ...(signal ? { signal } : {}) });
      for (let i = 0; i < 20; i += 1) {
        const abort = new AbortController();
        const reader = (await stream(abort.signal)).body!.getReader();
        await reader.read(); // the first event arrived
        abort.abort();
        await reader.read().catch(() => undefined);
      }
      // The run still waits, so only the disconnects can have ended those streams.
      await waitFor(() => subscribed === 0, 'every disconnected stream to unsubscribe');
      const done = await own.call('POST', `/api/runs/${run.runId}/events`, { type: 'APPROVE' });
      expect(done.json.status).toBe('done');
      expect((await own.call('GET', '/health')).status).toBe(200);
      const last: string[] = [];
      await readEvents(await stream(), (e) => void last.push(e.data.status));
      expect(last).toEqual(['done']);
      expect(own.logs).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it('200 concurrent clients each get the run live to its end', async () => {
    const { json: run } = await api.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput() });
    const clients = 200;
    let opened = 0;
    let approve!: () => void;
    const allOpen = new Promise<void>((resolve) => (approve = resolve));
    const finals = Promise.all(
      Array.from({ length: clients }, async () => {
        const statuses: string[] = [];
        let first = true;
        await readEvents(await openStream(run.runId), (e) => {
          statuses.push(e.data.status);
          if (first && (first = false, (opened += 1) === clients)) approve();
        });
        return statuses;
      }),
    );
    await allOpen;
    expect((await api.call('POST', `/api/runs/${run.runId}/events`, { type: 'APPROVE' })).json.status).toBe('done');
    const seen = await finals;
    expect(seen).toHaveLength(clients);
    for (const statuses of seen) {
      expect(statuses[0]).toBe('waiting');
      expect(statuses[statuses.length - 1]).toBe('done');
    }
  });

  it('closing the server ends open streams', async () => {
    const own = await startApi();
    try {
      const { json: run } = await own.call('POST', '/api/runs', { workflow: 'invoice-approval', input: invoiceInput() });
      const res = await fetch(`${own.url}/api/runs/${run.runId}/stream`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const statuses: string[] = [];
      const ended = readEvents(res, (e) => void statuses.push(e.data.status));
      await own.close();
      await ended;
      expect(statuses).toEqual(['waiting']);
    } catch (error) {
      await own.close().catch(() => undefined);
      throw error;
    }
  });
});
