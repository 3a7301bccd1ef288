/**
 * The emulator reports prompt caching as the Messages API does: a prefix up to
 * a `cache_control` breakpoint is written on first use (when it reaches the
 * model's minimum cacheable length), read while it lives (5 minutes on the
 * emulator's clock, refreshed by each read), and never cached below the minimum.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { withEmulator } from './helpers.js';

/** About `n` tokens of text for the shared counter (one short word is one token). */
const words = (n: number, word = 'pol') => Array.from({ length: n }, (_, i) => `${word}${String.fromCharCode(97 + (i % 26))}`).join(' ');

const tool = {
  name: 'record',
  description: 'Record the answer.',
  input_schema: { type: 'object' as const, properties: { answer: { type: 'string' } }, required: ['answer'] },
};

function request(model: string, system: string, question: string, mark = true): Anthropic.Messages.MessageCreateParamsNonStreaming {
  return {
    model,
    max_tokens: 200,
    system: [{ type: 'text', text: system, ...(mark ? { cache_control: { type: 'ephemeral' as const } } : {}) }],
    messages: [{ role: 'user', content: question }],
    tools: [tool],
    tool_choice: { type: 'tool', name: 'record' },
  };
}

describe('emulator prompt caching', () => {
  it('writes a long prefix on first use and reads it after; marks never change the count', async () => {
    await withEmulator({}, async ({ client }) => {
      const system = words(1500);
      const first = await client.messages.create(request('claude-sonnet-4-6', system, 'Question one?'));
      const second = await client.messages.create(request('claude-sonnet-4-6', system, 'Another question, two?'));
      const counted = await client.messages.countTokens({ model: 'claude-sonnet-4-6', system, messages: [{ role: 'user', content: 'Question one?' }], tools: [tool] });

      expect(first.usage.cache_creation_input_tokens).toBeGreaterThanOrEqual(1500);
      expect(first.usage.cache_read_input_tokens).toBe(0);
      // Every input token is charged once, as regular input, a write or a read; the total is what count_tokens says.
      expect(first.usage.input_tokens + first.usage.cache_creation_input_tokens!).toBe(counted.input_tokens);
      expect(second.usage.cache_creation_input_tokens).toBe(0);
      expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
      expect(second.usage.input_tokens).toBeLessThan(100);
    });
  });

  it('caches nothing below the minimum cacheable length: 1024 tokens for Sonnet and Opus, 2048 for Haiku', async () => {
    await withEmulator({}, async ({ client }) => {
      const short = words(600);
      for (let i = 0; i < 2; i++) {
        const reply = await client.messages.create(request('claude-sonnet-4-6', short, `Question ${i}?`));
        expect(reply.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
      }
      const middling = words(1500, 'rul');
      for (let i = 0; i < 2; i++) {
        const haiku = await client.messages.create(request('claude-haiku-4-5', middling, `Question ${i}?`));
        expect(haiku.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
      }
      const opus = await client.messages.create(request('claude-opus-4-6', middling, 'Question?'));
      expect(opus.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    });
  });

  it('keeps one cache per model, and none for unmarked requests', async () => {
    await withEmulator({}, async ({ client }) => {
      const system = words(1300);
      await client.messages.create(request('claude-sonnet-4-6', system, 'Q?'));
      const other = await client.messages.create(request('claude-opus-4-6', system, 'Q?'));
      expect(other.usage.cache_creation_input_tokens).toBeGreaterThan(0);
      expect(other.usage.cache_read_input_tokens).toBe(0);
      const unmarked = await client.messages.create(request('claude-sonnet-4-6', system, 'Q?', false));
      expect(unmarked.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    });
  });

  it('forgets a prefix 5 minutes (emulator clock) after its last use; each read refreshes it', async () => {
    let now = 1_000_000;
    await withEmulator({ now: () => now }, async ({ client }) => {
      const system = words(1200);
      const call = () => client.messages.create(request('claude-sonnet-4-6', system, 'Q?'));
      expect((await call()).usage.cache_creation_input_tokens).toBeGreaterThan(0);
      now += 4 * 60_000;
      expect((await call()).usage.cache_read_input_tokens).toBeGreaterThan(0);
      now += 4 * 60_000; // 8 minutes after the write, 4 after the read that refreshed it
      expect((await call()).usage.cache_read_input_tokens).toBeGreaterThan(0);
      now += 5 * 60_000 + 1;
      const expired = await call();
      expect(expired.usage.cache_read_input_tokens).toBe(0);
      expect(expired.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    });
  });

  it('reads the longest cached breakpoint and writes only what follows it', async () => {
    await withEmulator({}, async ({ client }) => {
      const system = words(1100);
      const shared = words(1400, 'cla');
      const body = (question: string): Anthropic.Messages.MessageCreateParamsNonStreaming => ({
        ...request('claude-sonnet-4-6', system, ''),
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: shared, cache_control: { type: 'ephemeral' } },
              { type: 'text', text: question },
            ],
          },
        ],
      });
      await client.messages.create(request('claude-sonnet-4-6', system, 'Warm the system prefix.'));
      const next = await client.messages.create(body('Q1?'));
      expect(next.usage.cache_read_input_tokens).toBeGreaterThan(1000);
      expect(next.usage.cache_creation_input_tokens).toBeGreaterThan(1300);
      const third = await client.messages.create(body('Q2?'));
      expect(third.usage.cache_creation_input_tokens).toBe(0);
      expect(third.usage.cache_read_input_tokens).toBe(next.usage.cache_read_input_tokens! + next.usage.cache_creation_input_tokens!);
    });
  });
});
