/**
 * Cassettes: a run's model replies recorded once and replayed with no model.
 * Recording wraps the `fetch` the Anthropic SDK client uses; every Messages
 * API request is stored with a hash of its body and the tool it forces.
 * Replaying answers each request from the cassette: first by the exact hash,
 * then — when a definition's prompt or context changed — by the next unused
 * reply for the same tool, so a changed definition or changed tool code can
 * be re-run deterministically against the replies the model once gave.
 * A cassette is a file made to be shared: what it keeps of a reply or an error
 * has the request's API key and anything shaped like a credential hidden.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { withoutSecrets } from '../util/redact.js';

export interface Interaction {
  /** SHA-256 of the normalised request body. */
  readonly key: string;
  /** The tool the request forced (`tool_choice`), for matching a changed request. */
  readonly tool: string | null;
  readonly model: string | null;
  readonly status: number;
  readonly body: unknown;
}

export interface CassetteFile {
  readonly version: 1;
  readonly interactions: readonly Interaction[];
}

type Fetch = typeof globalThis.fetch;

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What identifies a request: its body without transport details. */
export function requestKey(body: Record<string, unknown>): { key: string; tool: string | null; model: string | null } {
  const { model, system, messages, tools, tool_choice, max_tokens } = body;
  const key = createHash('sha256').update(stable({ model, system, messages, tools, tool_choice, max_tokens })).digest('hex');
  const choice = tool_choice as { type?: string; name?: string } | undefined;
  return { key, tool: choice?.type === 'tool' ? (choice.name ?? null) : null, model: typeof model === 'string' ? model : null };
}

const isMessages = (url: string) => /\/v1\/messages(\?|$)/.test(url);
const urlOf = (input: Parameters<Fetch>[0]) => (typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);

function bodyOf(init: Parameters<Fetch>[1]): Record<string, unknown> {
  const body = init?.body;
  if (typeof body !== 'string') return {};
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The API key a request carries (`x-api-key`, or `Authorization: Bearer <key>`): the configured one, which a server may echo. */
function apiKeyOf(input: Parameters<Fetch>[0], init: Parameters<Fetch>[1]): string | null {
  const headers = new Headers(input instanceof Request ? input.headers : undefined);
  new Headers(init?.headers).forEach((value, name) => headers.set(name, value));
  return headers.get('x-api-key') ?? headers.get('authorization')?.replace(/^Bearer\s+/i, '') ?? null;
}

/** `value` with `apiKey` and credential-shaped text hidden in every string it holds, names of fields included. */
function withoutKeys(value: unknown, apiKey: string | null): unknown {
  if (typeof value === 'string') return withoutSecrets(value, [apiKey]);
  if (Array.isArray(value)) return value.map((v) => withoutKeys(v, apiKey));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([name, v]) => [withoutSecrets(name, [apiKey]), withoutKeys(v, apiKey)]));
  }
  return value;
}

export function readCassette(file: string): CassetteFile {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as CassetteFile;
  if (parsed.version !== 1 || !Array.isArray(parsed.interactions)) throw new Error(`${file} is not a Stepwise cassette`);
  return parsed;
}

export interface Recorder {
  readonly fetch: Fetch;
  readonly interactions: readonly Interaction[];
  /** Writes the cassette, appending to the interactions already in `file`. */
  save(file: string): void;
}

/**
 * Wraps `inner` so every Messages API exchange is recorded: the request's key
 * and hash, the answer's status and body with the API key the request carried
 * and credential-shaped text hidden (the caller still gets the answer as sent).
 *
 * @example
 * ```ts
 * const recorder = recordingFetch();
 * const engine = createEngine({ store, model: new Anthropic({ baseURL, apiKey, fetch: recorder.fetch }) });
 * await engine.start(definition, { input });
 * recorder.save('run.cassette.json');
 * ```
 */
export function recordingFetch(inner: Fetch = globalThis.fetch): Recorder {
  const interactions: Interaction[] = [];
  const wrapped: Fetch = async (input, init) => {
    const response = await inner(input, init);
    if (!isMessages(urlOf(input))) return response;
    const text = await response.clone().text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // a non-JSON answer is kept as text
    }
    interactions.push({ ...requestKey(bodyOf(init)), status: response.status, body: withoutKeys(body, apiKeyOf(input, init)) });
    return response;
  };
  return {
    fetch: wrapped,
    interactions,
    save(file) {
      const before = existsSync(file) ? readCassette(file).interactions : [];
      const cassette: CassetteFile = { version: 1, interactions: [...before, ...interactions] };
      writeFileSync(file, `${JSON.stringify(cassette, null, 1)}\n`);
    },
  };
}

export interface Player {
  readonly fetch: Fetch;
  /** How the requests were answered. */
  readonly stats: { exact: number; byTool: number; missing: number };
}

function answer(status: number, body: unknown): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'request-id': 'req_cassette' },
  });
}

/** A `fetch` that answers Messages API requests from a cassette and never touches the network. */
export function replayingFetch(cassette: CassetteFile): Player {
  const used = new Set<number>();
  const stats = { exact: 0, byTool: 0, missing: 0 };
  const take = (match: (i: Interaction) => boolean) => {
    const index = cassette.interactions.findIndex((i, n) => !used.has(n) && match(i));
    if (index < 0) return null;
    used.add(index);
    return cassette.interactions[index]!;
  };
  const wrapped: Fetch = async (input, init) => {
    if (!isMessages(urlOf(input))) return answer(404, { type: 'error', error: { type: 'not_found_error', message: 'not in the cassette' } });
    const request = requestKey(bodyOf(init));
    const exact = take((i) => i.key === request.key);
    if (exact) {
      stats.exact++;
      return answer(exact.status, exact.body);
    }
    const similar = request.tool ? take((i) => i.tool === request.tool) : null;
    if (similar) {
      stats.byTool++;
      return answer(similar.status, similar.body);
    }
    stats.missing++;
    return answer(400, {
      type: 'error',
      error: { type: 'invalid_request_error', message: `the cassette has no reply left for this request (tool ${request.tool ?? 'none'})` },
    });
  };
  return { fetch: wrapped, stats };
}
