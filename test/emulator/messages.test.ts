import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { countJsonTokens } from '../../src/model/tokens.js';
import { document, forcedParams, invoiceTool, withEmulator } from './helpers.js';

type ToolUse = Anthropic.ToolUseBlock;

function toolUseOf(message: Anthropic.Message): ToolUse {
  const block = message.content.find((b): b is ToolUse => b.type === 'tool_use');
  if (!block) throw new Error(`no tool_use in ${JSON.stringify(message.content)}`);
  return block;
}

describe('POST /v1/messages', () => {
  it('answers a forced tool_choice with one tool_use in the API shape', async () => {
    await withEmulator({}, async ({ client }) => {
      const reply = await client.messages.create(forcedParams());
      expect(reply).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-emulated', stop_reason: 'tool_use', stop_sequence: null });
      expect(reply.id).toMatch(/^msg_emu_/);
      expect(reply.content).toHaveLength(1);
      const call = toolUseOf(reply);
      expect(call.id).toMatch(/^toolu_emu_/);
      expect(call.name).toBe('extract_invoice');
      expect(reply.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
      expect(reply.usage.output_tokens).toBe(countJsonTokens(reply.content));
      expect(reply._request_id).toMatch(/^req_emu_/);
    });
  });

  it('puts values from the prompt in the tool input', async () => {
    await withEmulator({}, async ({ client }) => {
      const input = toolUseOf(await client.messages.create(forcedParams())).input;
      expect(input).toMatchObject({ vendorId: 'V-1001', total: 12500, currency: 'USD' });
    });
  });

  it('count_tokens equals the input_tokens charged, also on the ?beta=true route', async () => {
    await withEmulator({}, async ({ client, emu }) => {
      const params = forcedParams();
      const reply = await client.messages.create(params);
      const { max_tokens: _m, ...countParams } = params;
      const counted = await client.messages.countTokens(countParams);
      expect(counted.input_tokens).toBe(reply.usage.input_tokens);
      expect(counted.input_tokens).toBeGreaterThan(50);
      const beta = await client.beta.messages.countTokens(countParams);
      expect(beta.input_tokens).toBe(reply.usage.input_tokens);
      const betaReply = await client.beta.messages.create(params);
      expect(betaReply.usage.input_tokens).toBe(reply.usage.input_tokens);
      expect(emu.stats().countTokens).toBe(2);
    });
  });

  it('is deterministic per seed and body; a repeated body can differ', async () => {
    const run = (seed: number) => withEmulator({ seed }, async ({ client }) => {
      const first = await client.messages.create(forcedParams());
      const second = await client.messages.create(forcedParams());
      return { first, second };
    });
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    const strip = (m: Anthropic.Message) => ({ ...m, _request_id: undefined });
    expect(strip(a.first)).toEqual(strip(b.first));
    expect(strip(a.second)).toEqual(strip(b.second));
    expect(a.second.id).not.toBe(a.first.id);
    expect(c.first.id).not.toBe(a.first.id);
  });

  it('replies with text when there are no tools, and stops at max_tokens', async () => {
    await withEmulator({}, async ({ client }) => {
      const base = { model: 'm', messages: [{ role: 'user' as const, content: 'The shipment from Acme arrived late. Two pallets were damaged. Please advise.' }] };
      const reply = await client.messages.create({ ...base, max_tokens: 500 });
      expect(reply.stop_reason).toBe('end_turn');
      const text = reply.content[0];
      expect(text?.type === 'text' && text.text).toContain('shipment');
      const short = await client.messages.create({ ...base, max_tokens: 12 });
      expect(short.stop_reason).toBe('max_tokens');
      expect(short.usage.output_tokens).toBeLessThanOrEqual(12);
    });
  });

  it('rejects malformed requests with the API error shape', async () => {
    await withEmulator({}, async ({ client, emu }) => {
      const bad = client.messages.create({ ...forcedParams(), messages: [{ role: 'robot' as 'user', content: 'x' }] });
      await expect(bad).rejects.toBeInstanceOf(Anthropic.BadRequestError);
      await expect(bad).rejects.toThrow(/messages\.0\.role/);
      await expect(client.messages.create({ ...forcedParams(), max_tokens: 0 })).rejects.toThrow(/max_tokens/);
      await expect(client.messages.create({ ...forcedParams(), messages: [] })).rejects.toThrow(/messages/);
      await expect(client.messages.create(forcedParams({ tool_choice: { type: 'tool', name: 'missing_tool' } }))).rejects.toThrow(/missing_tool/);
      const extra = await client.messages.create({ ...forcedParams(), thread: { type: 'create' } } as Anthropic.MessageCreateParamsNonStreaming);
      expect(extra.stop_reason).toBe('tool_use');

      const raw = await fetch(`${emu.url}/v1/messages`, { method: 'POST', body: '{"model":', headers: { 'content-type': 'application/json' } });
      expect(raw.status).toBe(400);
      expect(raw.headers.get('request-id')).toMatch(/^req_emu_/);
      expect(await raw.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
      const missing = await fetch(`${emu.url}/v1/nothing`, { method: 'POST', body: '{}' });
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
      expect(emu.stats().outcomes).toMatchObject({ invalid_request: 5, not_found: 1, ok: 1 });
    });
  });
});

describe('auto tool_choice', () => {
  const tools = [
    { name: 'notify_team', input_schema: { type: 'object' as const, properties: { message: { type: 'string' } }, required: ['message'] } },
    invoiceTool,
    {
      name: 'approve_invoice',
      input_schema: { type: 'object' as const, properties: { vendorId: { type: 'string' }, approvalCode: { type: 'string' } }, required: ['vendorId', 'approvalCode'] },
    },
    { name: 'archive_file', input_schema: { type: 'object' as const, properties: { path: { type: 'string' } } } },
  ];
  const task = `${document}\nFirst call extract_invoice, then approve_invoice, then notify_team.`;

  async function loop(client: Anthropic, maxTurns = 6): Promise<{ calls: ToolUse[]; last: Anthropic.Message }> {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: task }];
    const calls: ToolUse[] = [];
    for (let turn = 0; turn < maxTurns; turn++) {
      const reply = await client.messages.create({ model: 'm', max_tokens: 1024, messages, tools });
      if (reply.stop_reason !== 'tool_use') return { calls, last: reply };
      const call = toolUseOf(reply);
      calls.push(call);
      const result = call.name === 'extract_invoice' ? JSON.stringify({ ok: true, approvalCode: 'AC-77' }) : 'done';
      messages.push({ role: 'assistant', content: reply.content });
      messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: result }] });
    }
    throw new Error('did not finish');
  }

  it('follows the task order, lets values flow from tool results, and ends with end_turn', async () => {
    await withEmulator({}, async ({ client }) => {
      const { calls, last } = await loop(client);
      expect(calls.map((c) => c.name)).toEqual(['extract_invoice', 'approve_invoice', 'notify_team']);
      expect(calls[1]?.input).toMatchObject({ vendorId: 'V-1001', approvalCode: 'AC-77' });
      expect(last.stop_reason).toBe('end_turn');
      expect(last.content[0]?.type).toBe('text');
    });
  });

  it('uses the tools array order when the prompt names no tool; any calls the last tool again', async () => {
    await withEmulator({}, async ({ client }) => {
      const first = await client.messages.create({ model: 'm', max_tokens: 500, messages: [{ role: 'user', content: 'Handle it.' }], tools });
      expect(toolUseOf(first).name).toBe('notify_team');
      const one = [tools[0] as (typeof tools)[number]];
      const done: Anthropic.MessageParam[] = [
        { role: 'user', content: 'Handle it.' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'notify_team', input: { message: 'hi' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sent' }] },
      ];
      const auto = await client.messages.create({ model: 'm', max_tokens: 500, messages: done, tools: one });
      expect(auto.stop_reason).toBe('end_turn');
      const any = await client.messages.create({ model: 'm', max_tokens: 500, messages: done, tools: one, tool_choice: { type: 'any' } });
      expect(toolUseOf(any).name).toBe('notify_team');
      const none = await client.messages.create({ model: 'm', max_tokens: 500, messages: done, tools: one, tool_choice: { type: 'none' } });
      expect(none.stop_reason).toBe('end_turn');
    });
  });
});

describe('the SDK tool runner', () => {
  it.each([
    ['server-side threads (the default)', {}],
    ['full history (thread: false)', { thread: false }],
  ] as const)('runs a task to the end with %s', async (_label, extra) => {
    const { betaZodTool } = await import('@anthropic-ai/sdk/helpers/beta/zod');
    const { z } = await import('zod');
    await withEmulator({}, async ({ client, emu }) => {
      const called: string[] = [];
      const extract = betaZodTool({
        name: 'extract_invoice',
        description: 'Extract fields',
        inputSchema: z.object({ vendorId: z.string(), total: z.number() }),
        run: async (input) => {
          called.push('extract_invoice');
          return JSON.stringify({ ...input, riskScore: 3 });
        },
      });
      const check = betaZodTool({
        name: 'check_vendor',
        description: 'Check a vendor',
        inputSchema: z.object({ vendorId: z.string(), riskScore: z.number() }),
        run: async (input) => {
          called.push(`check_vendor:${input.vendorId}:${input.riskScore}`);
          return 'vendor ok';
        },
      });
      const final = await client.beta.messages
        .toolRunner({
          model: 'm',
          max_tokens: 1024,
          messages: [{ role: 'user', content: `${document}\nCall extract_invoice, then check_vendor.` }],
          tools: [extract, check],
          max_iterations: 6,
          ...extra,
        })
        .runUntilDone();
      expect(called).toEqual(['extract_invoice', 'check_vendor:V-1001:3']);
      expect(final.stop_reason).toBe('end_turn');
      expect(emu.stats().messages).toBe(3);
    });
  });

  it('rejects a thread it does not know', async () => {
    await withEmulator({}, async ({ emu }) => {
      const res = await fetch(`${emu.url}/v1/messages`, {
        method: 'POST',
        body: JSON.stringify({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }], thread: { type: 'continue', previous_message_id: 'msg_nope' } }),
      });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('msg_nope');
    });
  });
});
