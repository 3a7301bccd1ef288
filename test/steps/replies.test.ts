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

/** A client whose server answers each request with `respond()`. */
function serving(respond: (signal: AbortSignal | undefined) => Response, options: { apiKey?: string; maxRetries?: number } = {}) {
  const client = new Anthropic({
    apiKey: options.apiKey ?? 'test',
    baseURL: 'http://model.invalid',
    maxRetries: options.maxRetries ?? 0,
    fetch: async (_url, init) => respond(init?.signal ?? undefined),
  });
  return resolveModel({ client, maxRetries: options.maxRetries ?? 0 });
}

describe('model servers that misbehave (found by outside testing)', () => {
  it('usage that is not a count (a string, a negative, missing) is not trusted: input falls back to the local count, output to max_tokens', async () => {
    const model = scripted(reply([{ type: 'tool_use', id: 'toolu_1', name: 'fill', input: { a: 'x' } }], { input_tokens: '50', output_tokens: -7 } as unknown as Record<string, number>));
    const result = await callForToolInput(model, request);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.usage.inputTokens).toBe(result.estimatedInput);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBe(request.maxTokens);
    expect(result.usage.totalTokens).toBe(result.usage.inputTokens + request.maxTokens);
    expect(Number.isFinite(result.usage.usd)).toBe(true);
  });

  it('a reply whose body stalls after its headers ends the call as a retryable model error instead of hanging', async () => {
    // Headers, then a body that never ends (as fetch does, an abort of the request's signal errors it).
    const stalled = (signal: AbortSignal | undefined) =>
      new Response(new ReadableStream({ start: (body) => signal?.addEventListener('abort', () => body.error(signal.reason)) }), { status: 200, headers: { 'content-type': 'application/json' } });
    const result = await callForToolInput(serving(stalled), { ...request, timeoutMs: 20 });
    expect(result).toMatchObject({ ok: false, kind: 'model_error', retryable: true });
    if (result.ok) return;
    expect(result.message).toMatch(/no complete reply within/);
  });

  it('an error that echoes the API key or another credential keeps neither in its message', async () => {
    const key = 'gw-live-SECRET-0123456789abcdef';
    const echo = () =>
      new Response(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${key}; Authorization: Bearer abcdefghijklmnop` } }), {
        status: 401,
        headers: { 'content-type': 'application/json' },
      });
    const result = await callForToolInput(serving(echo, { apiKey: key }), request);
    expect(result).toMatchObject({ ok: false, kind: 'auth_error', retryable: false });
    if (result.ok) return;
    expect(result.message).not.toContain(key);
    expect(result.message).not.toContain('abcdefghijklmnop');
    expect(result.message).toContain('authentication failed');
  });
});
