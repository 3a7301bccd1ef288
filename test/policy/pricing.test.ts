import { describe, expect, it } from 'vitest';
import { costUsd, fallbackPrice, priceOf } from '../../src/policy/pricing.js';

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
});
