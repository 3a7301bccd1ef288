/**
 * `tokenScale` (option, or `token_scale=` in a fault spec): the emulator counts
 * tokens like a tokenizer that differs from the local estimate, in `usage` and
 * in `count_tokens` alike.
 */
import { describe, expect, it } from 'vitest';
import { countRequestTokens } from '../../src/model/tokens.js';
import { parseFaults } from '../../src/emulator/index.js';
import { forcedParams, withEmulator } from './helpers.js';

describe('emulator tokenScale', () => {
  it.each([
    [{ tokenScale: 1.3 }, 1.3],
    [{ faults: 'token_scale=0.7' }, 0.7],
    [{}, 1],
  ])('scales usage and count_tokens alike (%j)', async (options, scale) => {
    await withEmulator(options, async ({ client, emu }) => {
      const params = forcedParams();
      const local = countRequestTokens(params);
      const reply = await client.messages.create(params);
      const { max_tokens: _m, ...countParams } = params;
      const counted = await client.messages.countTokens(countParams);
      expect(reply.usage.input_tokens).toBe(Math.ceil(local * scale));
      expect(counted.input_tokens).toBe(reply.usage.input_tokens);
      expect(reply.usage.output_tokens).toBeLessThanOrEqual(params.max_tokens);
      expect(emu.stats().inputTokens).toBe(reply.usage.input_tokens);
    });
  });

  it('parses token_scale in a fault spec and rejects a bad one', () => {
    expect(parseFaults('flaky,token_scale=1.3')).toMatchObject({ token_scale: 1.3 });
    expect(() => parseFaults('token_scale=0')).toThrow(/token_scale/);
    expect(() => parseFaults('token_scale=x')).toThrow(/token_scale/);
  });
});
