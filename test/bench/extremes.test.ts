/** The spread target's two ends, named by scenario with the calls that explain them. */
import { describe, expect, it } from 'vitest';
import type { ScenarioOutcome } from '../../src/bench/arms/types.js';
import { tokenExtremes } from '../../src/bench/extremes.js';

const outcome = (scenario: string, steps: number, inputTokens: number, modelCalls: number): ScenarioOutcome => ({
  scenario, steps, completed: true, failure: null, resumable: null, inputTokens, outputTokens: 100, modelCalls, httpRequests: modelCalls + 1,
});

describe('tokenExtremes', () => {
  it('names the cheapest and the dearest workflow of the size, with their calls, and their ratio as the target rounds it', () => {
    const outcomes = [outcome('a', 5, 1200, 2), outcome('b', 10, 9000, 9), outcome('c', 5, 3174, 3), outcome('d', 5, 1500, 2)];
    expect(tokenExtremes(outcomes, 5)).toEqual({
      min: { scenario: 'a', tokens: 1300, modelCalls: 2, httpRequests: 3 },
      max: { scenario: 'c', tokens: 3274, modelCalls: 3, httpRequests: 4 },
      spread: 2.52,
    });
  });

  it('is null without workflows of the size, or when the cheapest used no tokens', () => {
    expect(tokenExtremes([outcome('a', 3, 10, 1)], 5)).toBeNull();
    expect(tokenExtremes([{ ...outcome('a', 5, 0, 0), outputTokens: 0 }], 5)).toBeNull();
  });
});
