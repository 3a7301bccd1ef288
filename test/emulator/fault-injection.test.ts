import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it, vi } from 'vitest';
import { Ajv, document, forcedParams, invoiceTool, ioTurns, until, withEmulator } from './helpers.js';

type ToolUse = Anthropic.ToolUseBlock;

function toolUseOf(message: Anthropic.Message): ToolUse {
  const block = message.content.find((b): b is ToolUse => b.type === 'tool_use');
  if (!block) throw new Error(`no tool_use in ${JSON.stringify(message.content)}`);
  return block;
}

const tools = [
  invoiceTool,
  { name: 'check_vendor', input_schema: { type: 'object' as const, properties: { vendorId: { type: 'string' } }, required: ['vendorId'] } },
  { name: 'approve_invoice', input_schema: { type: 'object' as const, properties: { note: { type: 'string' } } } },
  { name: 'delete_records', input_schema: { type: 'object' as const, properties: { table: { type: 'string' } } } },
];
const task = `${document}\nCall extract_invoice, then check_vendor, then approve_invoice.`;

function agentParams(messages: Anthropic.MessageParam[] = [{ role: 'user', content: task }]): Anthropic.MessageCreateParamsNonStreaming {
  return { model: 'm', max_tokens: 1024, messages, tools };
}

describe('HTTP faults', () => {
  it.each([
    ['rate_limit', 429, Anthropic.RateLimitError, 'rate_limit_error'],
    ['overloaded', 529, Anthropic.InternalServerError, 'overloaded_error'],
    ['server_error', 500, Anthropic.InternalServerError, 'api_error'],
  ] as const)('%s answers %i', async (fault, status, errorClass, type) => {
    await withEmulator({ faults: `${fault}=1`, retryAfterMs: 7 }, async ({ client, emu }) => {
      const error = await client.messages.create(forcedParams()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errorClass);
      const apiError = error as InstanceType<typeof Anthropic.APIError>;
      expect(apiError.status).toBe(status);
      expect(apiError.error).toMatchObject({ type: 'error', error: { type } });
      expect(apiError.headers?.get('x-should-retry')).toBe('true');
      expect(apiError.headers?.get('retry-after-ms')).toBe(status === 500 ? null : '7');
      expect(emu.stats().outcomes[fault]).toBe(1);
    });
  });

  it('529 is the SDK OverloadedError', async () => {
    await withEmulator({ faults: 'overloaded=1' }, async ({ client }) => {
      await expect(client.messages.create(forcedParams())).rejects.toBeInstanceOf(Anthropic.OverloadedError);
    });
  });

  it('an SDK retry of the same body draws again, so it can succeed', async () => {
    await withEmulator({ faults: 'rate_limit=0.5', retryAfterMs: 1 }, async ({ emu }) => {
      const client = new Anthropic({ baseURL: emu.url, apiKey: 'test', maxRetries: 8 });
      const reply = await client.messages.create(forcedParams());
      expect(reply.stop_reason).toBe('tool_use');
      expect(emu.stats().messages).toBeGreaterThanOrEqual(1);
    });
  });

  it('timeout holds the request until the client gives up, and close() frees it', async () => {
    // Time is fake for the client's timeout timer: it fires when the test says, once the emulator holds the request.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await withEmulator({ faults: 'timeout=1' }, async ({ client, emu }) => {
        const gaveUp = client.messages.create(forcedParams(), { timeout: 300 }).catch((e: unknown) => e);
        await until(() => emu.stats().outcomes['timeout'] === 1, 'the emulator to hold the request');
        vi.advanceTimersByTime(300);
        expect(await gaveUp).toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
        // A client whose timer never fires is freed by close(), not by a timeout.
        const pending = client.messages.create(forcedParams(), { timeout: 24 * 3_600_000 }).catch((e: unknown) => e);
        await until(() => emu.stats().outcomes['timeout'] === 2, 'the emulator to hold the second request');
        await emu.close();
        const freed = await pending;
        expect(freed).toBeInstanceOf(Anthropic.APIConnectionError);
        expect(freed).not.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it('context_window answers 400 prompt is too long', async () => {
    await withEmulator({ faults: 'context_window=1' }, async ({ client }) => {
      const error = await client.messages.create(forcedParams()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      expect((error as Error).message).toMatch(/prompt is too long: \d+ tokens > 200000 maximum/);
    });
  });

  it('latency holds every reply for that long', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await withEmulator({ faults: 'latency=150' }, async ({ client, emu }) => {
        let settled = false;
        const reply = client.messages.create(forcedParams()).finally(() => (settled = true));
        await until(() => emu.stats().outcomes['ok'] === 1, 'the emulator to answer');
        vi.advanceTimersByTime(149);
        await ioTurns(50);
        expect(settled).toBe(false);
        vi.advanceTimersByTime(1);
        expect((await reply).stop_reason).toBe('tool_use');
      });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('content faults', () => {
  it('invalid_input gives an input that fails the input_schema', async () => {
    const validate = new Ajv({ strict: false }).compile(invoiceTool.input_schema);
    await withEmulator({ faults: 'invalid_input=1' }, async ({ client, emu }) => {
      for (let i = 0; i < 5; i++) {
        const reply = await client.messages.create(forcedParams({ metadata: { user_id: `u${i}` } }));
        expect(validate(toolUseOf(reply).input)).toBe(false);
      }
      expect(emu.stats().faults['invalid_input']).toBe(5);
    });
    await withEmulator({}, async ({ client }) => {
      expect(validate(toolUseOf(await client.messages.create(forcedParams())).input)).toBe(true);
    });
  });

  it('repeat_call repeats an earlier call with near-identical input', async () => {
    const earlier = { vendorId: 'V-1001', total: 12500.5, currency: 'USD' };
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: task },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_a', name: 'extract_invoice', input: earlier }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_a', content: '{"ok":true}' }] },
    ];
    const normalise = (v: unknown): unknown =>
      typeof v === 'string' ? v.trim().replace(/\s+/g, ' ').toLowerCase() : typeof v === 'number' ? Math.round(v / 100) : v;
    await withEmulator({ faults: 'repeat_call=1' }, async ({ client, emu }) => {
      const call = toolUseOf(await client.messages.create(agentParams(messages)));
      expect(call.name).toBe('extract_invoice');
      expect(Object.keys(call.input as object)).toEqual(Object.keys(earlier));
      for (const [k, v] of Object.entries(earlier)) expect(normalise((call.input as Record<string, unknown>)[k])).toEqual(normalise(v));
      expect(emu.stats().faults['repeat_call']).toBe(1);
    });
    await withEmulator({}, async ({ client }) => {
      expect(toolUseOf(await client.messages.create(agentParams(messages))).name).toBe('check_vendor');
    });
  });

  it('refusal, pause_turn and max_tokens set the stop reason', async () => {
    for (const fault of ['refusal', 'pause_turn', 'max_tokens'] as const) {
      await withEmulator({ faults: `${fault}=1` }, async ({ client }) => {
        const reply = await client.messages.create(forcedParams());
        expect(reply.stop_reason).toBe(fault);
        if (fault === 'max_tokens') expect(reply.usage.output_tokens).toBeLessThan(40);
      });
    }
  });

  it('drift calls an unrelated tool', async () => {
    await withEmulator({ faults: 'drift=1' }, async ({ client }) => {
      expect(toolUseOf(await client.messages.create(agentParams())).name).toBe('delete_records');
    });
  });

  it('out_of_order calls a later tool first', async () => {
    await withEmulator({ faults: 'out_of_order=1' }, async ({ client }) => {
      expect(['check_vendor', 'approve_invoice']).toContain(toolUseOf(await client.messages.create(agentParams())).name);
    });
  });

  it('stop_early ends the turn before the task is done', async () => {
    await withEmulator({ faults: 'stop_early=1' }, async ({ client }) => {
      const reply = await client.messages.create(agentParams());
      expect(reply.stop_reason).toBe('end_turn');
      expect(reply.content[0]?.type).toBe('text');
    });
  });

  it('forced tool_choice is not affected by drift, out_of_order or stop_early', async () => {
    await withEmulator({ faults: 'drift=1,out_of_order=1,stop_early=1' }, async ({ client }) => {
      expect(toolUseOf(await client.messages.create(forcedParams())).name).toBe('extract_invoice');
    });
  });

  it('the flaky profile mixes outcomes, reproducibly', async () => {
    const run = () =>
      withEmulator({ faults: 'flaky', seed: 11 }, async ({ client, emu }) => {
        for (let i = 0; i < 60; i++) await client.messages.create(forcedParams({ metadata: { user_id: `u${i}` } })).catch(() => undefined);
        return emu.stats();
      });
    const [a, b] = [await run(), await run()];
    expect(a).toEqual(b);
    expect(a.outcomes['ok']).toBeGreaterThan(40);
    expect(a.outcomes['ok']).toBeLessThan(60);
  });
});
