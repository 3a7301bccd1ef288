/**
 * The Anthropic SDK client Stepwise talks to Claude with, and how the model
 * server is chosen: the caller's client, an explicit base URL, or the SDK's own
 * environment handling (`ANTHROPIC_API_KEY`, `ANTHROPIC_AUTH_TOKEN`,
 * `ANTHROPIC_BASE_URL`).
 */
import Anthropic from '@anthropic-ai/sdk';
import { StepwiseError } from '../errors.js';
import { markingFetch } from './answered.js';
import { NO_KEY } from './credentials.js';
import { DEFAULT_MODEL, DEFAULT_TIMEOUT_MS } from './defaults.js';
import { cappingFetch, checkMaxReplyBytes, DEFAULT_MAX_REPLY_BYTES } from './reply-cap.js';

export { DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_TIMEOUT_MS, environmentHasModel } from './defaults.js';
export { DEFAULT_MAX_REPLY_BYTES } from './reply-cap.js';

export interface ModelOptions {
  /** A ready client; used as is, its own `maxRetries` and `timeout` too unless given here. */
  readonly client?: Anthropic;
  /** A Messages-API server, e.g. the emulator's URL. */
  readonly baseURL?: string;
  readonly apiKey?: string;
  /** A bearer token instead of an API key (as gateways and proxies take); `ANTHROPIC_AUTH_TOKEN` by default, as the SDK reads it. */
  readonly authToken?: string;
  /** Model of steps that name none (default claude-sonnet-4-6). */
  readonly model?: string;
  /** Per-request timeout in ms (default 60 s); a step's `timeout` overrides it. */
  readonly timeoutMs?: number;
  /** HTTP retries the SDK makes inside one step attempt (default 2). */
  readonly maxRetries?: number;
  /**
   * The most of a reply's body that is read, in bytes (default 8 MiB): a larger reply fails the call as a retryable
   * `model_error`, the rest not read. Not applied to a `client` given ready (its fetch is its own).
   */
  readonly maxReplyBytes?: number;
}

export interface ModelConfig {
  readonly client: Anthropic;
  readonly model: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
}


/** Resolves model options into a client. Without options the SDK reads the environment. */
export function resolveModel(options: ModelOptions | Anthropic = {}, env: NodeJS.ProcessEnv = process.env): ModelConfig {
  const opts: ModelOptions = options instanceof Anthropic ? { client: options } : options;
  checkMaxReplyBytes(opts.maxReplyBytes, 'model');
  const maxRetries = opts.maxRetries ?? opts.client?.maxRetries ?? 2;
  const timeoutMs = opts.timeoutMs ?? opts.client?.timeout ?? DEFAULT_TIMEOUT_MS;
  const client =
    opts.client ??
    new Anthropic({
      ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
      ...credentialOf(opts, env),
      maxRetries,
      timeout: timeoutMs,
      // Tells a call whose body failed after a success status that the server made (and bills) a reply (./answered.ts);
      // reads no more of a body than maxReplyBytes (./reply-cap.ts).
      fetch: markingFetch(cappingFetch(globalThis.fetch, opts.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES)),
    });
  return { client, model: opts.model ?? DEFAULT_MODEL, timeoutMs, maxRetries };
}

/**
 * The one credential the client is made with, as the SDK chooses from the environment: the API key given or
 * `ANTHROPIC_API_KEY`, else the token given or `ANTHROPIC_AUTH_TOKEN`. A base URL with neither is a server to use
 * as is (the emulator takes any key): it gets a placeholder key, since the SDK sends no request without a credential.
 */
function credentialOf(opts: ModelOptions, env: NodeJS.ProcessEnv): { apiKey: string | null } | { authToken: string } {
  if (opts.apiKey !== undefined && opts.authToken !== undefined) {
    throw new StepwiseError('usage', 'The model options give both apiKey and authToken; pass one (the SDK sends one credential).');
  }
  if (opts.authToken !== undefined) return { authToken: opts.authToken };
  const apiKey = opts.apiKey ?? env['ANTHROPIC_API_KEY'];
  if (apiKey !== undefined) return { apiKey };
  const authToken = env['ANTHROPIC_AUTH_TOKEN'];
  if (authToken !== undefined) return { authToken };
  return { apiKey: opts.baseURL || env['ANTHROPIC_BASE_URL'] ? NO_KEY : null };
}
