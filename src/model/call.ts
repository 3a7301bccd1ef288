/**
 * One model call that must fill one tool's input: forced `tool_choice`, every
 * `stop_reason` and API error mapped to a step outcome, usage counted.
 */
import type Anthropic from '@anthropic-ai/sdk';
// The error class alone: a definition loads and validates without the rest of the SDK.
import { APIError } from '@anthropic-ai/sdk/core/error';
import { addUsage, cacheFields, zeroUsage, type FailureKind, type Usage } from '../run/types.js';
import type { BudgetDecision } from '../policy/budget.js';
import { cacheWeightedTokens, costUsd, requestCost } from '../policy/pricing.js';
import { underMark, type AnswerMark } from './answered.js';
import { boundedRequest, DeadlineExceeded } from './bounded.js';
import { cacheLayout, cacheWriteTokens } from './cache.js';
import type { ModelConfig } from './client.js';
import { credentialsOf } from './credentials.js';
import { countRequestTokens, isTokenCount } from './tokens.js';
import { recordReply, traceModelCall } from '../observe/tracing.js';
import { withoutSecrets } from '../util/redact.js';
import { causesOf, messageOf } from '../util/error-message.js';

export interface ToolCallRequest {
  readonly model: string;
  readonly maxTokens: number;
  readonly system?: string;
  readonly prompt: string;
  /** Stable text (the step's shared context) sent before `prompt`, inside the cached prefix. */
  readonly shared?: string;
  /** Mark the stable prefix (tool, system, shared) for prompt caching; default false. */
  readonly cache?: boolean;
  readonly tool: { readonly name: string; readonly description: string; readonly input_schema: Record<string, unknown> };
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /**
   * Asked before each `pause_turn` continuation (a model call of its own) with
   * its projection and the usage this call has spent so far; a refusal ends
   * the call with kind `budget` before the continuation is sent.
   */
  readonly mayContinue?: (projection: CallProjection, spent: Usage) => BudgetDecision;
  /**
   * Told of each reply as it is charged (its usage, and the local count of its request): what the call has been
   * billed is known even when its result reaches nobody (its step was aborted while the call or its tool ran).
   */
  readonly onReply?: (usage: Usage, estimatedInput: number) => void;
}

/**
 * What a request may cost: its counted input plus its whole `max_tokens`, in
 * tokens and dollars, with its cache-marked prefix written to the prompt
 * cache (at the write rate) in the worst case.
 */
export interface CallProjection {
  /** The request's input tokens as counted locally (`countRequestTokens`). */
  readonly inputTokens: number;
  /** Of those, the prefix up to its last `cache_control` breakpoint: the most the request may write to the cache (0 unmarked). */
  readonly cacheWriteTokens: number;
  readonly maxTokens: number;
  readonly projectedTokens: number;
  readonly projectedUsd: number;
}

/**
 * `estimatedInput`: the local count (`countRequestTokens`) of the requests whose
 * reply was billed in `usage`, for calibrating the budget to the server's tokenizer.
 */
export type ToolCallResult =
  | { readonly ok: true; readonly input: unknown; readonly usage: Usage; readonly estimatedInput: number; readonly stopReason: string; readonly latencyMs: number; readonly requests: number }
  | {
      readonly ok: false;
      readonly kind: FailureKind;
      readonly message: string;
      readonly retryable: boolean;
      readonly usage: Usage;
      readonly estimatedInput: number;
      readonly stopReason: string | null;
      readonly latencyMs: number;
      readonly requests: number;
    };

/** How many times a `pause_turn` reply is continued before the step fails. */
const MAX_CONTINUATIONS = 3;

/**
 * Usage of one reply. `inputTokens` is the uncached input (`input_tokens`);
 * prompt-cache writes and reads are kept beside it and weighted as priced in
 * `totalTokens`, the figure the budget charges (a write 1.25 tokens, a read 0.1).
 */
export function toUsage(
  model: string,
  usage: unknown,
  fallback: { readonly inputTokens: number; readonly outputTokens: number } = { inputTokens: 0, outputTokens: 0 },
): Usage {
  // A model server other than Anthropic's may send counts that are not counts (a string, a negative, NaN, null) or
  // none at all: such a field is not trusted, the budget charges the fallback instead (the local count of the request,
  // its max_tokens). Cache counts it lacks are none.
  const sent = (typeof usage === 'object' && usage !== null ? usage : {}) as Record<string, unknown>;
  const inputTokens = countOf(sent['input_tokens'], fallback.inputTokens);
  const outputTokens = countOf(sent['output_tokens'], fallback.outputTokens);
  const cache = { creation: countOf(sent['cache_creation_input_tokens'], 0), read: countOf(sent['cache_read_input_tokens'], 0) };
  return {
    inputTokens,
    outputTokens,
    totalTokens: inputTokens + outputTokens + cacheWeightedTokens(cache),
    usd: costUsd(model, inputTokens, outputTokens, cache),
    ...cacheFields(cache.creation, cache.read),
  };
}

/** A token count as sent, or `fallback` when what was sent (or not sent: absent, null) is not a whole number of tokens ≥ 0. */
function countOf(value: unknown, fallback: number): number {
  return isTokenCount(value) ? value : fallback;
}

/** What is wrong with a 200 reply the SDK handed back as a message (null when nothing is): its content must be an array of blocks. */
function malformedReply(reply: unknown): string | null {
  const content = (reply as { content?: unknown } | null)?.content;
  if (!Array.isArray(content)) return 'no content array';
  const at = content.findIndex((block) => typeof block !== 'object' || block === null || Array.isArray(block));
  return at < 0 ? null : `content[${at}] is ${JSON.stringify(content[at]) ?? typeof content[at]}, not a content block`;
}

export { callDeadlineMs, RETRY_WAIT_ALLOWANCE_MS } from './bounded.js';

/** The request body, built once so the budget guard counts exactly what is sent. */
export function toolCallParams(req: ToolCallRequest): Anthropic.Messages.MessageCreateParamsNonStreaming {
  const params: Anthropic.Messages.MessageCreateParamsNonStreaming = {
    model: req.model,
    max_tokens: req.maxTokens,
    ...(req.system ? { system: req.system } : {}),
    messages: [{ role: 'user', content: req.prompt }],
    tools: [{ name: req.tool.name, description: req.tool.description, input_schema: req.tool.input_schema as Anthropic.Messages.Tool.InputSchema }],
    tool_choice: { type: 'tool', name: req.tool.name, disable_parallel_tool_use: true },
  };
  return cacheLayout(params, { shared: req.shared, prompt: req.prompt, cache: req.cache ?? false });
}

/**
 * The projected cost of a request, the one projection the budget guard checks
 * before every model call: the first one of a step and each continuation.
 * A marked prefix counts as written (1.25×): the entry may have expired, or
 * not be there yet.
 */
export function projectCall(params: Anthropic.Messages.MessageCreateParamsNonStreaming): CallProjection {
  return projection(params.model, countRequestTokens(params), cacheWriteTokens(params), params.max_tokens);
}

/** The projection of a request of `inputTokens` input, `written` of them possibly written to the cache, and `maxTokens`. */
export function projection(model: string, inputTokens: number, written: number, maxTokens: number): CallProjection {
  const cost = requestCost(model, inputTokens, written, maxTokens);
  return { inputTokens, cacheWriteTokens: Math.min(written, inputTokens), maxTokens, projectedTokens: cost.tokens, projectedUsd: cost.usd };
}

/** What the model server's 4xx answers mean for the operator: a kind, and what to fix. */
const requestErrors: ReadonlyArray<{ readonly statuses: readonly number[]; readonly kind: FailureKind; readonly fix: string }> = [
  { statuses: [401], kind: 'auth_error', fix: 'authentication failed: check ANTHROPIC_API_KEY (or the apiKey the engine was given)' },
  { statuses: [403], kind: 'permission_error', fix: 'permission denied: the API key may not use this model or feature' },
  { statuses: [404], kind: 'not_found', fix: 'not found: check the model name and the model server URL (ANTHROPIC_BASE_URL)' },
  { statuses: [400, 413, 422], kind: 'invalid_request', fix: "invalid request: check the step's model, maxTokens, prompt size and tool schema" },
];

/** The SDK's local error when neither an API key nor a token is configured (not an `APIError`: no request was made). */
const missingCredentials = /Could not resolve authentication method/;

/**
 * Maps an SDK error to a step failure: transient ones (connection, 408, 409,
 * 429, 5xx) are retryable; configuration errors (authentication, permission,
 * not found, malformed request, missing credentials) fail at once with a kind
 * and a message that say what to fix. A failure with no HTTP status (no
 * connection, a reset, a redirect loop, a body cut short) names `server` (the
 * model server's origin) and the cause the error carries. `secrets` (the
 * configured credentials) and anything shaped like a credential are hidden.
 */
export function classifyError(error: unknown, secrets: readonly string[] = [], server: string | null = null): { kind: FailureKind; message: string; retryable: boolean } {
  if (error instanceof APIError && error.status !== undefined) {
    const status = error.status;
    // The SDK's message starts with the status already ("429 {…}"): it is named once, first.
    const sent = withoutSecrets(error.message, secrets);
    const message = sent.startsWith(`${status} `) ? sent.slice(String(status).length + 1) : sent;
    if (status === 400 && /prompt is too long|context window|too many tokens/i.test(message)) {
      return { kind: 'context_window', message: sent, retryable: false };
    }
    if (status === 408 || status === 409 || status === 429 || status >= 500) {
      return { kind: 'model_error', message: `${status} ${message}`, retryable: true };
    }
    const known = requestErrors.find((e) => e.statuses.includes(status));
    if (known) return { kind: known.kind, message: `${status} ${known.fix} (${message})`, retryable: false };
    return { kind: 'model_error', message: `${status} ${message}`, retryable: false };
  }
  const message = messageOf(error);
  if (missingCredentials.test(message)) {
    return {
      kind: 'auth_error',
      message: 'no credentials for the model server: set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for a compatible server, or pass apiKey to the engine)',
      retryable: false,
    };
  }
  return { kind: 'model_error', message: withoutSecrets(withCause(message, error, server), secrets), retryable: true };
}

/** `message` followed by where it happened and why: `Connection error. (model server http://host:port: connect ECONNREFUSED …)`. */
function withCause(message: string, error: unknown, server: string | null): string {
  const causes = causesOf(error);
  const where = server ? `model server ${server}` : '';
  const detail = where && causes ? `${where}: ${causes}` : where || causes;
  return detail ? `${message} (${detail})` : message;
}

/** The origin of a model server's base URL (scheme, host, port: no credentials, path or query); null when it has none. */
export function serverOrigin(baseURL: string): string | null {
  try {
    const origin = new URL(baseURL).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

/**
 * Asks the model to fill the input of one tool.
 * `pause_turn` replies are continued; `refusal`, `max_tokens` and a missing tool
 * call become failures the step machine decides on.
 */
export async function callForToolInput(config: ModelConfig, req: ToolCallRequest): Promise<ToolCallResult> {
  const started = Date.now();
  let usage: Usage = zeroUsage;
  let estimatedInput = 0;
  const params = toolCallParams(req);
  const messages = [...params.messages];
  let requests = 0;
  const fail = (kind: FailureKind, message: string, retryable: boolean, stopReason: string | null): ToolCallResult => ({
    ok: false,
    kind,
    message,
    retryable,
    usage,
    estimatedInput,
    stopReason,
    latencyMs: Date.now() - started,
    requests,
  });

  for (let turn = 0; turn <= MAX_CONTINUATIONS; turn++) {
    if (turn > 0 && req.mayContinue) {
      const decision = req.mayContinue(projectCall({ ...params, messages }), usage);
      if (!decision.allowed) return fail('budget', `the model paused its turn; continuing it: ${decision.reason ?? 'over budget'}`, false, 'pause_turn');
    }
    let reply: Anthropic.Messages.Message;
    // Every reply is charged, a malformed one too; counts it lacks are charged as the request's local count and max_tokens.
    const charge = (replyUsage: unknown) => {
      const counted = countRequestTokens({ ...params, messages });
      const billed = toUsage(req.model, replyUsage, { inputTokens: counted, outputTokens: params.max_tokens });
      usage = addUsage(usage, billed);
      estimatedInput += counted;
      req.onReply?.(billed, counted);
    };
    const mark: AnswerMark = { answered: false };
    // An abort (a cancel, a sibling's failure) while a reply's body is still arriving after its success status: the
    // reply is charged at once, as one without usage, so the attempt's end (which comes before this call sees its
    // error) already counts it.
    let chargedAtAbort = false;
    const abortedMidBody = () => {
      if (!mark.answered) return;
      chargedAtAbort = true;
      charge(undefined);
    };
    req.signal?.addEventListener('abort', abortedMidBody, { once: true });
    try {
      requests++;
      reply = await traceModelCall(req.model, req.maxTokens, req.tool.name, async (span) => {
        const answer = await boundedRequest(config, req, (options) => underMark(mark, () => config.client.messages.create({ ...params, messages }, options)));
        recordReply(span, req.model, answer);
        return answer;
      });
    } catch (error) {
      // A success status came but its body did not (cut, stalled, not JSON): the server made a reply and bills it.
      if (mark.answered && !(error instanceof APIError) && !chargedAtAbort) charge(undefined);
      if (error instanceof DeadlineExceeded) return fail('model_error', error.message, true, null);
      const { kind, message, retryable } = classifyError(error, credentialsOf(config.client), serverOrigin(config.client.baseURL));
      return fail(kind, message, retryable, null);
    } finally {
      req.signal?.removeEventListener('abort', abortedMidBody);
    }
    // (Aborted after the reply came whole but before this saw it: charged once, at the abort.)
    if (!chargedAtAbort) charge((reply as { usage?: unknown } | null)?.usage);
    const malformed = malformedReply(reply);
    if (malformed) return fail('model_error', `the model server sent a malformed reply: ${malformed}`, true, null);
    const stop = reply.stop_reason ?? 'end_turn';
    const toolUse = reply.content.find((b): b is Anthropic.Messages.ToolUseBlock => b.type === 'tool_use' && b.name === req.tool.name);
    switch (stop) {
      case 'tool_use':
        if (toolUse) return { ok: true, input: toolUse.input, usage, estimatedInput, stopReason: stop, latencyMs: Date.now() - started, requests };
        return fail('invalid_data', `the model did not call ${req.tool.name}`, true, stop);
      case 'pause_turn':
        messages.push({ role: 'assistant', content: reply.content });
        continue;
      case 'refusal':
        return fail('refusal', 'the model declined to fill this step (stop_reason "refusal")', false, stop);
      case 'max_tokens':
        return fail('max_tokens', `the reply hit max_tokens (${req.maxTokens}) before the tool input was complete`, true, stop);
      case 'model_context_window_exceeded':
        return fail('context_window', 'the request exceeds the model context window', false, stop);
      default:
        if (toolUse) return { ok: true, input: toolUse.input, usage, estimatedInput, stopReason: stop, latencyMs: Date.now() - started, requests };
        return fail('invalid_data', `the model ended its turn (${stop}) without calling ${req.tool.name}`, true, stop);
    }
  }
  return fail('model_error', `the model paused its turn more than ${MAX_CONTINUATIONS} times`, true, 'pause_turn');
}
