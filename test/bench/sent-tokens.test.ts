/** The benchmark's token figure counts prompt-cache writes and reads, which the API bills, besides uncached input and output. */
import { describe, expect, it } from 'vitest';
import { sentInputTokens, sentTokens } from '../../src/bench/arms/sent-tokens.js';

describe('bench token figure', () => {
  it('counts cached input (writes and reads) with the uncached input', () => {
    expect(sentInputTokens({ input_tokens: 40, cache_creation_input_tokens: 1200, cache_read_input_tokens: 0 })).toBe(1240);
    expect(sentInputTokens({ input_tokens: 40, cache_creation_input_tokens: null, cache_read_input_tokens: 1200 })).toBe(1240);
    expect(sentInputTokens({ input_tokens: 40 })).toBe(40);
  });

  it("counts a run's usage the same way, output included", () => {
    expect(sentTokens({ inputTokens: 40, outputTokens: 60, cacheReadInputTokens: 1200 })).toBe(1300);
    expect(sentTokens({ inputTokens: 40, outputTokens: 60 })).toBe(100);
  });
});
