/**
 * The Anthropic SDK client Stepwise talks to Claude with, and how the model
 * server is chosen: the caller's client, an explicit base URL, or the SDK's own
 * environment handling (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`).
 */
import Anthropic from '@anthropic-ai/sdk';
import { markingFetch } from './answered.js';
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
      // A base URL with any key is a server to use as is; the emulator takes any key.
      apiKey: opts.apiKey ?? env['ANTHROPIC_API_KEY'] ?? (opts.baseURL || env['ANTHROPIC_BASE_URL'] ? 'stepwise-no-key' : null),
      maxRetries,
      timeout: timeoutMs,
      // Tells a call whose body failed after a success status that the server made (and bills) a reply (./answered.ts);
      // reads no more of a body than maxReplyBytes (./reply-cap.ts).
      fetch: markingFetch(cappingFetch(globalThis.fetch, opts.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES)),
    });
  return { client, model: opts.model ?? DEFAULT_MODEL, timeoutMs, maxRetries };
}
