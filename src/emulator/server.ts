/**
 * The emulator's HTTP server (node:http): routes, body reading, fault
 * injection at the HTTP level, latency, held (timed-out) requests, and a
 * clean shutdown that leaves no timers or sockets behind.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countJsonTokens } from '../model/tokens.js';
import { hashString, seededRandom } from '../util/random.js';
import { drawFaults, resolveFaults, type FaultSpec } from './faults.js';
import { simulateTurn } from './model.js';
import { randomId } from './plausible.js';
import { errorBody, type ApiErrorType, type MessageReply } from './reply.js';
import { inputTokens, stableStringify, type ChargedFields } from './request-tokens.js';
import { StatsRecorder, type EmulatorStats } from './stats.js';
import { CACHE_TTL_MS, PromptCache } from './prompt-cache.js';
import { withoutCacheMarks } from '../model/cache-marks.js';
import { ThreadStore } from './threads.js';
import { parseCountTokensRequest, parseMessagesRequest } from './validate.js';

export interface EmulatorOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Host to bind; default 127.0.0.1. */
  host?: string;
  /** Seed of the simulated model; default 1. */
  seed?: number;
  /** A fault spec (`rate_limit=0.1,latency=20`), a profile name, or a spec object. */
  faults?: string | FaultSpec;
  /** Value of the `retry-after-ms` header on 429 and 529; default 20. */
  retryAfterMs?: number;
  /**
   * How the emulated tokenizer differs from the local estimate (`countTokens`):
   * input tokens in `usage` and `count_tokens` are `ceil(estimate × tokenScale)`,
   * output tokens too (never past `max_tokens`). Default 1, or the fault spec's `token_scale`.
   */
  tokenScale?: number;
  /** The emulator's clock (ms), which prompt-cache entries expire on; default `Date.now`. */
  now?: () => number;
}

export interface Emulator {
  /** Base URL for the Anthropic client, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening, drops held and delayed requests, clears every timer. */
  close(): Promise<void>;
  /** Counters of requests by outcome and fault. */
  stats(): EmulatorStats;
}

const MAX_BODY = 32 * 1024 * 1024;
const CONTEXT_WINDOW = 200_000;

type Route = 'messages' | 'count_tokens' | 'other';

function routeOf(req: IncomingMessage): Route {
  const path = new URL(req.url ?? '/', 'http://emulator').pathname.replace(/\/+$/, '');
  if (req.method !== 'POST') return 'other';
  if (path === '/v1/messages') return 'messages';
  if (path === '/v1/messages/count_tokens') return 'count_tokens';
  return 'other';
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

/**
 * Starts a Messages API emulator.
 * @example
 * const emu = await startEmulator({ seed: 7, faults: 'flaky' });
 * const client = new Anthropic({ baseURL: emu.url, apiKey: 'test' });
 * // ...
 * await emu.close();
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const faults = resolveFaults(options.faults);
  const seed = options.seed ?? 1;
  const retryAfterMs = options.retryAfterMs ?? 20;
  const latency = faults.latency ?? 0;
  const tokenScale = options.tokenScale ?? faults.token_scale ?? 1;
  if (!(Number.isFinite(tokenScale) && tokenScale > 0)) throw new RangeError(`tokenScale must be a number > 0, got ${tokenScale}`);
  /** Input tokens as the emulated tokenizer counts them. */
  const countInput = (body: ChargedFields): number => (tokenScale === 1 ? inputTokens(body) : Math.ceil(inputTokens(body) * tokenScale));
  const stats = new StatsRecorder();
  const occurrences = new Map<string, number>();
  const threads = new ThreadStore();
  const cache = new PromptCache(options.now ?? Date.now, CACHE_TTL_MS, countInput);
  const held = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  let requestCount = 0;
  let closed = false;

  const send = (res: ServerResponse, answer: Answer, requestId: string): void => {
    const write = (): void => {
      if (res.destroyed || res.writableEnded) return;
      const text = JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        'request-id': requestId,
        ...answer.headers,
      });
      res.end(text);
    };
    if (latency <= 0) return write();
    const timer = setTimeout(() => {
      timers.delete(timer);
      write();
    }, latency);
    timers.add(timer);
    res.on('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  };

  const error = (status: number, type: ApiErrorType, message: string, retry: boolean): Answer => ({
    status,
    body: errorBody(type, message),
    headers: {
      'x-should-retry': String(retry),
      ...(status === 429 || status === 529 ? { 'retry-after-ms': String(retryAfterMs) } : {}),
    },
  });

  /** The random streams of one request: fault draws and generated values. */
  const streams = (route: Route, body: unknown): { faults: () => number; gen: () => number } => {
    const bodyHash = hashString(stableStringify(body)).toString(16);
    const key = `${route}:${bodyHash}`;
    const occurrence = occurrences.get(key) ?? 0;
    occurrences.set(key, occurrence + 1);
    const base = `${seed}:${bodyHash}:${occurrence}`;
    return { faults: seededRandom(hashString(base)), gen: seededRandom(hashString(`${base}:gen`)) };
  };

  const answerMessages = (raw: unknown, res: ServerResponse): Answer | 'hold' => {
    const resolved = threads.resolve(raw);
    if (!resolved.ok) return error(400, 'invalid_request_error', resolved.message, false);
    // Cache marks change billing, not meaning: the simulated model, its random draws and the count see the request without them.
    const body = withoutCacheMarks(resolved.body);
    const parsed = parseMessagesRequest(body);
    if (!parsed.ok) return error(400, 'invalid_request_error', parsed.message, false);
    const request = parsed.request;
    const random = streams('messages', body);
    const fired = drawFaults(faults, random.faults);
    const charged = countInput(body as ChargedFields);
    if (fired.has('timeout')) {
      held.add(res);
      res.on('close', () => held.delete(res));
      return 'hold';
    }
    if (fired.has('unauthorized')) return error(401, 'authentication_error', 'invalid x-api-key (emulated).', false);
    if (fired.has('forbidden')) return error(403, 'permission_error', 'Your API key does not have permission to use the specified resource (emulated).', false);
    if (fired.has('bad_request')) return error(400, 'invalid_request_error', 'tools.0.input_schema: JSON schema is invalid (emulated).', false);
    if (fired.has('rate_limit')) return error(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit (emulated).', true);
    if (fired.has('overloaded')) return error(529, 'overloaded_error', 'Overloaded (emulated).', true);
    if (fired.has('server_error')) return error(500, 'api_error', 'Internal server error (emulated).', true);
    if (fired.has('context_window') || charged > CONTEXT_WINDOW) {
      const n = Math.max(charged, CONTEXT_WINDOW + 1 + Math.floor(random.gen() * 50_000));
      return error(400, 'invalid_request_error', `prompt is too long: ${n} tokens > ${CONTEXT_WINDOW} maximum`, false);
    }
    const cached = cache.use(request.model, resolved.body as ChargedFields, charged);
    const id = `msg_emu_${randomId(random.gen)}`;
    const turn = simulateTurn(request, fired, random.gen);
    const reply: MessageReply = {
      id,
      type: 'message',
      role: 'assistant',
      model: request.model,
      content: turn.content,
      stop_reason: turn.stopReason,
      stop_sequence: null,
      usage: { input_tokens: charged - cached.creation - cached.read, output_tokens: Math.min(request.max_tokens, Math.ceil(countJsonTokens(turn.content) * tokenScale)), cache_creation_input_tokens: cached.creation, cache_read_input_tokens: cached.read },
    };
    if (resolved.threaded) threads.record(id, resolved.body, turn.content);
    for (const f of turn.faults) stats.fault(f);
    stats.reply(turn.stopReason, charged, reply.usage.output_tokens);
    return { status: 200, body: reply };
  };

  const outcomeOf = (answer: Answer | 'hold'): string => {
    if (answer === 'hold') return 'timeout';
    const type = (answer.body as { error?: { type?: string; message?: string } }).error;
    if (!type) return 'ok';
    if (answer.status === 429) return 'rate_limit';
    if (answer.status === 529) return 'overloaded';
    if (answer.status === 500) return 'server_error';
    if (answer.status === 401) return 'unauthorized';
    if (answer.status === 403) return 'forbidden';
    if (type.message?.endsWith('(emulated).') && answer.status === 400) return 'bad_request';
    if (type.message?.startsWith('prompt is too long')) return 'context_window';
    return answer.status === 404 ? 'not_found' : 'invalid_request';
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = `req_emu_${(++requestCount).toString(16).padStart(12, '0')}`;
    const route = routeOf(req);
    stats.request(route);
    const text = await readBody(req);
    if (closed) return void res.destroy();
    let answer: Answer | 'hold';
    if (route === 'other') {
      answer = error(404, 'not_found_error', `Not found: ${req.method ?? ''} ${req.url ?? ''}`, false);
    } else if (text === undefined) {
      answer = error(413, 'request_too_large', `Request exceeds the maximum allowed number of bytes (${MAX_BODY}).`, false);
    } else {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (cause) {
        body = undefined;
        answer = error(400, 'invalid_request_error', `Request body is not valid JSON: ${(cause as Error).message}`, false);
      }
      if (body !== undefined) {
        if (route === 'messages') answer = answerMessages(body, res);
        else {
          const resolved = threads.resolve(body);
          const parsed = resolved.ok ? parseCountTokensRequest(resolved.body) : { ok: false as const, message: resolved.message };
          answer = parsed.ok && resolved.ok
            ? { status: 200, body: { input_tokens: countInput(resolved.body as ChargedFields) } }
            : error(400, 'invalid_request_error', parsed.ok ? 'invalid thread' : parsed.message, false);
        }
      }
    }
    answer ??= error(400, 'invalid_request_error', 'Request body is empty.', false);
    const outcome = outcomeOf(answer);
    stats.outcome(outcome);
    if (outcome !== 'ok' && outcome !== 'invalid_request' && outcome !== 'not_found') stats.fault(outcome);
    if (answer !== 'hold') send(res, answer, requestId);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((cause: unknown) => {
      if (!res.headersSent) send(res, error(500, 'api_error', `Emulator failure: ${String(cause)}`, false), 'req_emu_failure');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    stats: () => stats.snapshot(),
    close: async () => {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const res of held) res.destroy();
      held.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}
