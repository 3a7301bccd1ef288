/** `callForToolInput`: every stop reason and API error mapped to an outcome, using the emulator's faults. */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { callForToolInput, classifyError, type ToolCallRequest } from '../../src/model/call.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';
import { document, withModel } from './helpers.js';

const request: ToolCallRequest = {
  model: 'claude-sonnet-4-6',
  maxTokens: 300,
  prompt: `<instructions>\nExtract the invoice.\n</instructions>\n\n<document>\n${document}\n</document>`,
  tool: {
    name: 'record_invoice',
    description: 'Record the invoice.',
    input_schema: {
      type: 'object',
      required: ['vendorId', 'total'],
      properties: { vendorId: { type: 'string', pattern: '^V-\\d{4}$' }, total: { type: 'number' }, notes: { type: 'string' } },
    },
  },
  timeoutMs: MODEL_TIMEOUT_MS,
};

describe('callForToolInput', () => {
  it('returns the forced tool input with its usage', async () => {
    await withModel({ seed: 1 }, async ({ model, emu }) => {
      const result = await callForToolInput(model, request);
      expect(result).toMatchObject({ ok: true, stopReason: 'tool_use', requests: 1, input: { vendorId: 'V-1001' } });
      expect(result.usage.inputTokens).toBe(emu.stats().inputTokens);
      expect(result.usage.outputTokens).toBe(emu.stats().outputTokens);
      expect(result.usage.usd).toBeGreaterThan(0);
    });
  });

  it('refusal=1: a refusal, not retryable, usage still counted', async () => {
    await withModel({ seed: 1, faults: 'refusal=1' }, async ({ model }) => {
      const result = await callForToolInput(model, request);
      expect(result).toMatchObject({ ok: false, kind: 'refusal', retryable: false, stopReason: 'refusal' });
      expect(result.usage.totalTokens).toBeGreaterThan(0);
    });
  });

  it('max_tokens=1: a retryable max_tokens failure naming the limit', async () => {
    await withModel({ seed: 1, faults: 'max_tokens=1' }, async ({ model }) => {
      const result = await callForToolInput(model, request);
      expect(result).toMatchObject({ ok: false, kind: 'max_tokens', retryable: true, stopReason: 'max_tokens' });
      if (!result.ok) expect(result.message).toContain('(300)');
    });
  });

  it('pause_turn=1: continues the turn, then gives up after three continuations', async () => {
    await withModel({ seed: 1, faults: 'pause_turn=1' }, async ({ model, emu }) => {
      const result = await callForToolInput(model, request);
      expect(result).toMatchObject({ ok: false, kind: 'model_error', retryable: true, stopReason: 'pause_turn', requests: 4 });
      expect(emu.stats().messages).toBe(4);
      expect(emu.stats().stopReasons['pause_turn']).toBe(4);
    });
  });

  it('pause_turn at a lower rate: a continued turn completes and charges every request', async () => {
    // The first seed whose first request pauses and whose continuation is answered (deterministic per seed).
    let found: number | null = null;
    for (let seed = 1; seed <= 40 && found === null; seed++) {
      await withModel({ seed, faults: 'pause_turn=0.5' }, async ({ model, emu }) => {
        const result = await callForToolInput(model, request);
        if (!result.ok || result.requests !== 2) return;
        found = seed;
        expect(result.input).toMatchObject({ vendorId: 'V-1001' });
        expect(emu.stats().stopReasons['pause_turn']).toBe(1);
        expect(emu.stats().messages).toBe(2);
        expect(result.usage.inputTokens).toBe(emu.stats().inputTokens);
        expect(result.usage.outputTokens).toBe(emu.stats().outputTokens);
      });
    }
    expect(found).not.toBeNull();
  });

  it('context_window=1: a context_window failure, not retryable', async () => {
    await withModel({ seed: 1, faults: 'context_window=1' }, async ({ model }) => {
      const result = await callForToolInput(model, request);
      expect(result).toMatchObject({ ok: false, kind: 'context_window', retryable: false, stopReason: null });
      if (!result.ok) expect(result.message).toMatch(/prompt is too long/);
    });
  });

  it('rate_limit=1: a retryable model_error with the status', async () => {
    await withModel({ seed: 1, faults: 'rate_limit=1' }, async ({ model }) => {
      const result = await callForToolInput(model, request);
      expect(result).toMatchObject({ ok: false, kind: 'model_error', retryable: true, usage: { totalTokens: 0 } });
      if (!result.ok) expect(result.message).toMatch(/^429 /);
    });
  });

  it('timeout=1: gives up after the request timeout, retryable', async () => {
    await withModel({ seed: 1, faults: 'timeout=1' }, async ({ model }) => {
      const result = await callForToolInput(model, { ...request, timeoutMs: 150 });
      expect(result).toMatchObject({ ok: false, kind: 'model_error', retryable: true });
    });
  });
});

describe('classifyError', () => {
  const apiError = (status: number, message: string) => Anthropic.APIError.generate(status, { type: 'error', error: { type: 'x', message } }, message, new Headers());

  it('treats request errors as final and transient ones as retryable', () => {
    expect(classifyError(apiError(400, 'messages: field required'))).toMatchObject({ kind: 'invalid_request', retryable: false });
    expect(classifyError(apiError(401, 'invalid x-api-key'))).toMatchObject({ kind: 'auth_error', retryable: false });
    for (const status of [408, 409, 429, 500, 529]) expect(classifyError(apiError(status, 'try later')).retryable).toBe(true);
    expect(classifyError(apiError(400, 'prompt is too long: 250000 tokens > 200000 maximum'))).toMatchObject({ kind: 'context_window', retryable: false });
    expect(classifyError(new Error('socket hang up'))).toEqual({ kind: 'model_error', message: 'socket hang up', retryable: true });
  });

  it('configuration errors fail at once with a kind and a message that say what to fix', () => {
    const cases: Array<[number, string, RegExp]> = [
      [401, 'auth_error', /ANTHROPIC_API_KEY/],
      [403, 'permission_error', /permission/],
      [404, 'not_found', /model name|ANTHROPIC_BASE_URL/],
      [400, 'invalid_request', /request/],
      [413, 'invalid_request', /request/],
      [422, 'invalid_request', /request/],
    ];
    for (const [status, kind, fix] of cases) {
      const result = classifyError(apiError(status, 'rejected'));
      expect(result, String(status)).toMatchObject({ kind, retryable: false });
      expect(result.message).toContain(String(status));
      expect(result.message).toMatch(fix);
    }
    // The SDK's own error when neither an API key nor a token is set: no request is made, nothing to retry.
    const local = classifyError(new Error('Could not resolve authentication method. Expected either apiKey or authToken to be set.'));
    expect(local).toMatchObject({ kind: 'auth_error', retryable: false });
    expect(local.message).toMatch(/set ANTHROPIC_API_KEY/);
  });

  it('never repeats an API key in a message', () => {
    const { message } = classifyError(apiError(401, 'invalid key sk-ant-api03-SECRETSECRET'));
    expect(message).not.toContain('SECRET');
    expect(message).toContain('invalid key ***');
  });
});
