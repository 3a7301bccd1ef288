/**
 * A hand-written Messages API server that misbehaves as an outside tester's did (found by outside testing):
 * `count_tokens` that stalls or asks to wait an hour, counts that are not counts, replies without usage or with
 * a `null` content block, and error messages. The real SDK talks to a real node:http server started here, and
 * the real engine drives the steps; nothing waits in real time (a stalled server is cancelled, or bounded by a
 * 50 ms request timeout).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { callDeadlineMs, callForToolInput, toolCallParams } from '../../src/model/call.js';
import { resolveModel } from '../../src/model/client.js';
import { exactInputTokens } from '../../src/model/count.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { definition, events, recordNote } from '../guards/helpers.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => void;

interface FakeServer {
  readonly url: string;
  /** Requests seen, by path. */
  readonly seen: string[];
  /** Resolves when a request to `path` arrives, with a promise of its connection's close. */
  arrival(path: string): Promise<{ closed: Promise<void> }>;
}

const servers: Server[] = [];
const restores: Array<() => void> = [];
afterEach(async () => {
  for (const restore of restores.splice(0)) restore();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A node:http Messages API server answering each path with its handler (404 otherwise). */
async function serve(routes: Record<string, Handler>): Promise<FakeServer> {
  const seen: string[] = [];
  const waiting = new Map<string, Array<(arrived: { closed: Promise<void> }) => void>>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      seen.push(path);
      const closed = new Promise<void>((resolve) => res.on('close', () => resolve()));
      for (const wake of waiting.get(path)?.splice(0) ?? []) wake({ closed });
      const handler = routes[path];
      if (!handler) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'no such path' } }));
        return;
      }
      handler(req, res, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    arrival: (path) => new Promise((resolve) => waiting.set(path, [...(waiting.get(path) ?? []), resolve])),
  };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

/** 200 headers, then a body that never ends. */
const stall: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"input_tokens":');
};

/** 429 asking to wait an hour before the next try. */
const waitAnHour: Handler = (_req, res) => json(res, 429, { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }, { 'retry-after': '3600' });

/** A reply filling record_note, with `usage` as given (left out when undefined) and `content` as given. */
function message(usage: unknown, content?: unknown): Handler {
  return (_req, res, body) =>
    json(res, 200, {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: body['model'],
      content: content ?? [{ type: 'tool_use', id: 'toolu_1', name: 'record_note', input: { title: 'Intake', note: 'opened' } }],
      stop_reason: 'tool_use',
      stop_sequence: null,
      ...(usage === undefined ? {} : { usage }),
    });
}

const counting = (count: unknown): Handler => (_req, res) => json(res, 200, { input_tokens: count });

function engineOn(url: string, options: { maxRetries?: number; timeoutMs?: number } = {}): Engine {
  return createEngine({
    store: createMemoryStore(),
    clock: new ManualClock({ autoAdvance: true }),
    tools: [recordNote],
    model: { baseURL: url, apiKey: 'x', maxRetries: options.maxRetries ?? 0, timeoutMs: options.timeoutMs ?? 60_000 },
  });
}

/** Model steps filling record_note, each with its `max_tokens`, then a final step. */
const steps = (maxTokens: readonly number[]) => {
  const names = ['first', 'second', 'third'];
  return Object.fromEntries([
    ...maxTokens.map((max, i) => [names[i]!, { claude: { tool: 'record_note', prompt: `Record a note titled ${names[i]!} about the case.`, maxTokens: max } }]),
    ['done', { final: true }],
  ]);
};

const workflow = (id: string, maxTokens: readonly number[], extra: Record<string, unknown> = {}) =>
  definition({ id, retry: { maxAttempts: 1 }, ...extra, steps: steps(maxTokens) }, [recordNote]);

/**
 * Far from the limit for `first` (no count); `second`'s max_tokens of 2,000 brings the run within 15 % of the
 * limit whatever its input (a few hundred tokens at most), yet its projection fits: it is counted, then sent.
 */
const nearOnSecond = () => workflow('near-limit', [200, 2000], { budget: { tokens: 2450, stopAt: 1 } });

/**
 * `AbortSignal.timeout`, the call deadline's timer, replaced by signals the test aborts: records each deadline asked
 * for, and `pass()` makes them all pass, so nothing waits in real time. Restored after each test.
 */
function manualDeadlines() {
  const made: number[] = [];
  const controllers: AbortController[] = [];
  const spy = vi.spyOn(AbortSignal, 'timeout').mockImplementation((ms: number) => {
    made.push(ms);
    const controller = new AbortController();
    controllers.push(controller);
    return controller.signal;
  });
  restores.push(() => spy.mockRestore());
  return { made, pass: () => controllers.forEach((c) => c.abort(new DOMException('The operation timed out.', 'TimeoutError'))) };
}

const request = {
  model: 'claude-sonnet-4-6',
  maxTokens: 100,
  prompt: 'Record a note.',
  tool: { name: 'record_note', description: 'Record a note', input_schema: { type: 'object', properties: { title: { type: 'string' }, note: { type: 'string' } } } },
  timeoutMs: 60_000,
};

describe('count_tokens near the budget limit (F1)', () => {
  for (const [name, handler, maxRetries] of [['stalls after its headers', stall, 0], ['answers 429 with retry-after: 3600', waitAnHour, 2]] as const) {
    it(`a count that ${name} has the deadline messages.create has: when it passes, the local estimate is used`, async () => {
      const server = await serve({ '/v1/messages/count_tokens': handler });
      const model = resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries, timeoutMs: 60_000 });
      const deadlines = manualDeadlines();
      const arrived = server.arrival('/v1/messages/count_tokens');
      // The step's own timeout (40 s per request) gives the bound; the SDK's per-request timeout stops at the headers.
      const counting = exactInputTokens(model, toolCallParams(request), { timeoutMs: 40_000 });
      await arrived;
      expect(deadlines.made).toEqual([callDeadlineMs(40_000, maxRetries)]);
      deadlines.pass();
      await expect(counting).resolves.toBeNull();
    });
  }

  it('without a step timeout the count is bounded by the model config\'s', async () => {
    const server = await serve({ '/v1/messages/count_tokens': stall });
    const model = resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 1, timeoutMs: 60_000 });
    const deadlines = manualDeadlines();
    const arrived = server.arrival('/v1/messages/count_tokens');
    const counting = exactInputTokens(model, toolCallParams(request));
    await arrived;
    expect(deadlines.made).toEqual([callDeadlineMs(60_000, 1)]);
    deadlines.pass();
    await expect(counting).resolves.toBeNull();
  });

  it('a count that fails (429, no retries left) falls back to the local estimate: the step runs', async () => {
    const server = await serve({ '/v1/messages': message({ input_tokens: 40, output_tokens: 10 }), '/v1/messages/count_tokens': waitAnHour });
    const run = await engineOn(server.url).start(nearOnSecond());
    expect(server.seen).toEqual(['/v1/messages', '/v1/messages/count_tokens', '/v1/messages']);
    expect(run).toMatchObject({ status: 'done', usage: { totalTokens: 100 } });
  });

  for (const [name, handler] of [['stalls after its headers', stall], ['answers 429 with retry-after: 3600', waitAnHour]] as const) {
    it(`cancel ends a step whose count_tokens request ${name}, and aborts the request`, async () => {
      const server = await serve({ '/v1/messages': message({ input_tokens: 40, output_tokens: 10 }), '/v1/messages/count_tokens': handler });
      const engine = engineOn(server.url, { maxRetries: 2 });
      const arrived = server.arrival('/v1/messages/count_tokens');
      const running = engine.start(nearOnSecond(), { runId: 'near-limit-1' });
      const { closed } = await arrived;
      const cancelled = await engine.cancel('near-limit-1', 'operator said stop');
      expect(cancelled).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', message: 'operator said stop' } });
      expect((await running).status).toBe('cancelled');
      await closed; // the count request was aborted, not left to run
      expect(server.seen).toEqual(['/v1/messages', '/v1/messages/count_tokens']); // the second message was never sent
    });
  }

  it('an aborted step signal ends the count at once: the abort is raised, not hidden as a fallback', async () => {
    const server = await serve({ '/v1/messages/count_tokens': waitAnHour });
    const model = resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 2, timeoutMs: 60_000 });
    const step = new AbortController();
    const arrived = server.arrival('/v1/messages/count_tokens');
    const counting = exactInputTokens(model, toolCallParams(request), { timeoutMs: 60_000, signal: step.signal });
    await arrived;
    step.abort(new Error('cancelled'));
    await expect(counting).rejects.toThrow();
  });
});

describe('counts that are not counts (F2)', () => {
  for (const count of [-100_000, 1.5, '12', null]) {
    it(`count_tokens answering ${JSON.stringify(count)} is not trusted`, async () => {
      const server = await serve({ '/v1/messages/count_tokens': counting(count) });
      const model = resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 0 });
      await expect(exactInputTokens(model, toolCallParams(request))).resolves.toBeNull();
    });
  }

  it('a negative count does not let calls past the budget: the run stops budget_exhausted within it', async () => {
    // Each reply bills 500 + 100; the local estimate is far lower, so the second call is near the limit and counted.
    const server = await serve({ '/v1/messages': message({ input_tokens: 500, output_tokens: 100 }), '/v1/messages/count_tokens': counting(-100_000) });
    const engine = engineOn(server.url);
    const run = await engine.start(workflow('negative-count', [200, 200, 200], { budget: { tokens: 1000, stopAt: 0.9 } }));
    expect(server.seen).toContain('/v1/messages/count_tokens');
    expect(run).toMatchObject({ status: 'budget_exhausted', usage: { totalTokens: 600 } });
  });
});

describe('replies without usage (F3)', () => {
  for (const [name, usage] of [
    ['usage: null', null],
    ['usage: {}', {}],
    ['usage fields null', { input_tokens: null, output_tokens: null }],
    ['no usage at all', undefined],
  ] as const) {
    it(`${name}: the request's local count and its max_tokens are charged, not 0`, async () => {
      const server = await serve({ '/v1/messages': message(usage) });
      const result = await callForToolInput(resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 0 }), request);
      expect(result.ok).toBe(true);
      expect(result.estimatedInput).toBeGreaterThan(0);
      expect(result.usage).toMatchObject({ inputTokens: result.estimatedInput, outputTokens: request.maxTokens, totalTokens: result.estimatedInput + request.maxTokens });
      expect(result.usage.usd).toBeGreaterThan(0);
    });
  }

  it('through the engine: a server that never sends usage still has the run charged and stopped by its budget', async () => {
    const server = await serve({ '/v1/messages': message(null) });
    const engine = engineOn(server.url);
    const run = await engine.start(workflow('no-usage', [200, 200, 200], { budget: { tokens: 700, stopAt: 1 } }));
    expect(run.status).toBe('budget_exhausted');
    expect(run.usage.totalTokens).toBeGreaterThan(200);
    expect(run.usage.totalTokens).toBeLessThanOrEqual(700);
    expect(run.usage.usd).toBeGreaterThan(0);
  });
});

describe('malformed 200 replies (F6)', () => {
  it('a null content block fails the step as a retryable model_error about the reply, with its usage charged', async () => {
    const server = await serve({ '/v1/messages': message({ input_tokens: 7, output_tokens: 3 }, [null, { type: 'tool_use', id: 'toolu_1', name: 'record_note', input: { title: 'a', note: 'b' } }]) });
    const result = await callForToolInput(resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 0 }), request);
    expect(result).toMatchObject({ ok: false, kind: 'model_error', retryable: true, usage: { inputTokens: 7, outputTokens: 3, totalTokens: 10 } });
    if (!result.ok) expect(result.message).toMatch(/reply/);

    const engine = engineOn(server.url);
    const run = await engine.start(workflow('null-block', [200]));
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'model_error', step: 'first' }, usage: { totalTokens: 10 } });
    expect(run.failure?.message).not.toMatch(/Cannot read properties/);
  });

  it('a reply with usage but no content array is charged its usage', async () => {
    const server = await serve({
      '/v1/messages': (_req, res) => json(res, 200, { id: 'msg_1', type: 'message', role: 'assistant', stop_reason: 'tool_use', usage: { input_tokens: 7, output_tokens: 3 } }),
    });
    const result = await callForToolInput(resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 0 }), request);
    expect(result).toMatchObject({ ok: false, kind: 'model_error', retryable: true, usage: { totalTokens: 10 } });
  });
});

describe('a 200 whose body never arrives whole (F8)', () => {
  // The server answered 200: it made (and bills) a reply, whatever became of the body on the way.
  const cut: Handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"id":"msg_1","type":"message","content":[{"type":"text","text":"unfinis');
    setImmediate(() => res.socket?.destroy());
  };
  const garbage: Handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not json</html>');
  for (const [name, handler] of [['cut mid-body', cut], ['not JSON', garbage]] as const) {
    it(`${name}: charged the local count and max_tokens, and retryable`, async () => {
      const server = await serve({ '/v1/messages': handler });
      const result = await callForToolInput(resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 0 }), request);
      expect(result).toMatchObject({ ok: false, kind: 'model_error', retryable: true });
      expect(result.estimatedInput).toBeGreaterThan(0);
      expect(result.usage.totalTokens).toBe(result.estimatedInput + request.maxTokens);
    });
  }

  it('a request refused before any 200 (a 500) is charged nothing, as before', async () => {
    const server = await serve({ '/v1/messages': (_req, res) => json(res, 500, { type: 'error', error: { type: 'api_error', message: 'boom' } }) });
    const result = await callForToolInput(resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 0 }), request);
    expect(result).toMatchObject({ ok: false, kind: 'model_error', usage: { totalTokens: 0 } });
  });
});

describe('a 200 whose body is JSON null', () => {
  it('fails as a malformed reply, charged the local count and max_tokens, not with an internal message', async () => {
    const server = await serve({ '/v1/messages': (_req, res) => json(res, 200, null) });
    const result = await callForToolInput(resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 0 }), request);
    expect(result).toMatchObject({ ok: false, kind: 'model_error', retryable: true });
    if (!result.ok) expect(result.message).not.toMatch(/Cannot read properties/);
    expect(result.usage.totalTokens).toBe(result.estimatedInput + request.maxTokens);
  });
});

describe('model error messages (F7)', () => {
  it('name the HTTP status once', async () => {
    const server = await serve({
      '/v1/messages': (_req, res) => json(res, 429, { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }),
    });
    const limited = await callForToolInput(resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 0 }), request);
    expect(limited).toMatchObject({ ok: false, kind: 'model_error', retryable: true });
    if (!limited.ok) {
      expect(limited.message).toMatch(/^429 /);
      expect(limited.message).not.toMatch(/429 429/);
    }
    const denied = await serve({
      '/v1/messages': (_req, res) => json(res, 401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }),
    });
    const auth = await callForToolInput(resolveModel({ baseURL: denied.url, apiKey: 'x', maxRetries: 0 }), request);
    expect(auth).toMatchObject({ ok: false, kind: 'auth_error' });
    if (!auth.ok) expect(auth.message.match(/401/g)).toHaveLength(1);
  });
});
