import { describe, expect, it } from 'vitest';
import { cacheWeightedTokens, costUsd, fallbackPrice, priceOf, requestCost, writeSurcharge } from '../../src/policy/pricing.js';
import { addUsage, zeroUsage } from '../../src/run/types.js';

describe('pricing', () => {
  it.each([
    ['claude-opus-4-1-20250805', 15, 75],
    ['claude-opus-4-20250514', 15, 75],
    ['claude-opus-4-0', 15, 75],
    ['claude-opus-4-5-20251101', 5, 25],
    ['claude-opus-4-5', 5, 25],
    ['claude-sonnet-4-20250514', 3, 15],
    ['claude-sonnet-4-5', 3, 15],
    ['claude-haiku-4-5-20251001', 1, 5],
    ['claude-3-5-haiku-20241022', 0.8, 4],
    ['claude-3-haiku-20240307', 0.25, 1.25],
  ])('prices %s by its longest prefix', (model, input, output) => {
    expect(priceOf(model)).toMatchObject({ input, output });
  });

  it('falls back to Sonnet prices for unknown models', () => {
    expect(priceOf('emulated-model')).toBe(fallbackPrice);
    expect(fallbackPrice).toMatchObject({ input: 3, output: 15 });
  });

  it('computes dollars per call', () => {
    expect(costUsd('claude-haiku-4-5', 1_000_000, 100_000)).toBeCloseTo(1.5, 10);
    expect(costUsd('claude-opus-4-1', 2000, 1000)).toBeCloseTo(0.105, 10);
    expect(costUsd('claude-sonnet-4-5', 0, 0)).toBe(0);
    expect(costUsd('unknown', 1_000_000, 1_000_000)).toBe(18);
  });

  it('prints dollars as the decimals they are, without float noise, per call and summed', () => {
    const decimals = (n: number) => (String(n).split('.')[1] ?? '').length;
    for (const model of ['claude-3-5-haiku', 'claude-3-haiku', 'claude-sonnet-4-5']) {
      for (let input = 1; input < 3000; input += 7) {
        for (const output of [1, 3, 17, 72, 499]) expect(decimals(costUsd(model, input, output)), `${model} ${input} ${output}`).toBeLessThanOrEqual(10);
      }
    }
    const sum = addUsage({ ...zeroUsage, usd: 0.001794 }, { ...zeroUsage, usd: 0.002757 });
    expect(String(sum.usd)).toBe('0.004551');
  });

  it('prices prompt-cache writes at 1.25× and reads at 0.1× the input price, and weights them so in budget tokens', () => {
    expect(costUsd('claude-haiku-4-5', 0, 0, { creation: 1_000_000, read: 0 })).toBe(1.25);
    expect(costUsd('claude-haiku-4-5', 0, 0, { creation: 0, read: 1_000_000 })).toBe(0.1);
    expect(costUsd('claude-sonnet-4-6', 1000, 100, { creation: 2000, read: 4000 })).toBe((1000 * 3 + 2000 * 3.75 + 4000 * 0.3 + 100 * 15) / 1_000_000);
    expect(cacheWeightedTokens({ creation: 2000, read: 0 })).toBe(2500);
    expect(cacheWeightedTokens({ creation: 1, read: 2001 })).toBe(2 + 201);
    // Sums keep the cache fields only when they are not zero, so usage without caching has its four fields.
    expect(addUsage(zeroUsage, zeroUsage)).toEqual(zeroUsage);
    expect(Object.keys(addUsage(zeroUsage, zeroUsage))).toEqual(['inputTokens', 'outputTokens', 'totalTokens', 'usd']);
    expect(addUsage({ ...zeroUsage, cacheReadInputTokens: 5 }, { ...zeroUsage, cacheReadInputTokens: 7, cacheCreationInputTokens: 3 })).toMatchObject({ cacheReadInputTokens: 12, cacheCreationInputTokens: 3 });
  });

  it('a request that may write its cached prefix costs, at most, that prefix at the write rate and the rest as input', () => {
    expect(writeSurcharge(2000)).toBe(500);
    expect(writeSurcharge(1)).toBe(1); // rounded up per reply, as billed
    const cost = requestCost('claude-haiku-4-5', 3000, 2000, 200);
    expect(cost).toEqual({ tokens: 1000 + 2500 + 200, usd: costUsd('claude-haiku-4-5', 1000, 200, { creation: 2000, read: 0 }) });
    // What a reply that writes the prefix bills, totalTokens and dollars alike.
    expect(cost.tokens).toBe(1000 + 200 + cacheWeightedTokens({ creation: 2000, read: 0 }));
    expect(requestCost('claude-haiku-4-5', 3000, 0, 200)).toEqual({ tokens: 3200, usd: costUsd('claude-haiku-4-5', 3000, 200) });
    // Never more written than the whole input.
    expect(requestCost('claude-haiku-4-5', 3000, 9000, 0).tokens).toBe(3750);
  });
});
