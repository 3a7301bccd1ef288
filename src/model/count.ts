/**
 * The exact input count of a request from the model server
 * (`POST /v1/messages/count_tokens`), asked when a call comes near the budget's
 * limit. `null` when the server gives no count to trust (an error, no complete
 * answer within the call's deadline, a count that is not a whole number ≥ 0):
 * the caller keeps its projection. Bounded as `messages.create` is
 * ({@link boundedRequest}); an abort of the step's signal is raised, not hidden.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { boundedRequest } from './bounded.js';
import type { ModelConfig } from './client.js';
import { isTokenCount } from './tokens.js';

export async function exactInputTokens(
  config: ModelConfig,
  params: Anthropic.Messages.MessageCreateParamsNonStreaming,
  /** `timeoutMs`: the step's per-request timeout (default the config's); `signal`: the step's. */
  bound: { readonly timeoutMs?: number; readonly signal?: AbortSignal | undefined } = {},
): Promise<number | null> {
  const { model, messages, system, tools, tool_choice } = params;
  const body = { model, messages, ...(system !== undefined ? { system } : {}), ...(tools !== undefined ? { tools } : {}), ...(tool_choice !== undefined ? { tool_choice } : {}) };
  try {
    const counted = await boundedRequest(config, { timeoutMs: bound.timeoutMs ?? config.timeoutMs, signal: bound.signal }, (options) =>
      config.client.messages.countTokens(body, options),
    );
    const tokens: unknown = (counted as { input_tokens?: unknown } | null)?.input_tokens;
    return isTokenCount(tokens) ? tokens : null;
  } catch (error) {
    if (bound.signal?.aborted) throw error;
    return null;
  }
}
