/**
 * The exact input count of a request from the model server
 * (`POST /v1/messages/count_tokens`), asked when a call comes near the budget's
 * limit. `null` when the server cannot answer: the caller keeps its projection.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { ModelConfig } from './client.js';

export async function exactInputTokens(
  config: ModelConfig,
  params: Anthropic.Messages.MessageCreateParamsNonStreaming,
  signal?: AbortSignal,
): Promise<number | null> {
  const { model, messages, system, tools, tool_choice } = params;
  try {
    const counted = await config.client.messages.countTokens(
      { model, messages, ...(system !== undefined ? { system } : {}), ...(tools !== undefined ? { tools } : {}), ...(tool_choice !== undefined ? { tool_choice } : {}) },
      { timeout: config.timeoutMs, maxRetries: config.maxRetries, ...(signal ? { signal } : {}) },
    );
    return typeof counted?.input_tokens === 'number' && Number.isFinite(counted.input_tokens) ? counted.input_tokens : null;
  } catch {
    return null;
  }
}
