/** Replies a model server other than the emulator may send: cache usage, no content, extra text blocks. */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { callForToolInput } from '../../src/model/call.js';
import { resolveModel } from '../../src/model/client.js';

function scripted(body: unknown) {
  const client = new Anthropic({
    apiKey: 'test',
    baseURL: 'http://model.invalid',
    maxRetries: 0,
    fetch: async () => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } }),
  });
  return resolveModel({ client, maxRetries: 0 });
}

const request = {
  model: 'claude-sonnet-4-6',
  maxTokens: 100,
  prompt: 'Fill it.',
  tool: { name: 'fill', description: 'Fill', input_schema: { type: 'object', properties: { a: { type: 'string' } } } },
  timeoutMs: 1000,
};

const reply = (content: unknown, usage: Record<string, number>) => ({
  id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content, stop_reason: 'tool_use', stop_sequence: null, usage,
});

describe('model replies', () => {
  it('keeps prompt-cache writes and reads beside input, weighted 1.25 and 0.1 in the budget total, and finds the tool call among text blocks', async () => {
    const model = scripted(
      reply(
        [{ type: 'text', text: 'Here you go.' }, { type: 'tool_use', id: 'toolu_1', name: 'fill', input: { a: 'x' } }],
        { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000 },
      ),
    );
    const result = await callForToolInput(model, request);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.input).toEqual({ a: 'x' });
    expect(result.usage).toMatchObject({ inputTokens: 10, outputTokens: 5, cacheCreationInputTokens: 100, cacheReadInputTokens: 1000, totalTokens: 10 + 5 + 125 + 100 });
  });

  it('a reply without content is a retryable model error, not a crash', async () => {
    const result = await callForToolInput(scripted({ id: 'msg_2', type: 'message', usage: { input_tokens: 3, output_tokens: 0 } }), request);
    expect(result).toMatchObject({ ok: false, kind: 'model_error', retryable: true });
  });
});
