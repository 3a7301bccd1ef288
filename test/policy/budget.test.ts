import { describe, expect, it } from 'vitest';
import { budgetAllows, resolveBudget } from '../../src/policy/budget.js';
import { zeroUsage, type Usage } from '../../src/run/types.js';

const usage = (totalTokens: number, usd = 0): Usage => ({ inputTokens: totalTokens, outputTokens: 0, totalTokens, usd });

describe('resolveBudget', () => {
  it('fills in defaults', () => {
    expect(resolveBudget()).toEqual({ tokens: 50_000, usd: null, stopAt: 0.9 });
    expect(resolveBudget({ usd: 2, stopAt: 0.5 })).toEqual({ tokens: 50_000, usd: 2, stopAt: 0.5 });
  });

  it('lets an override replace the token total', () => {
    expect(resolveBudget({ tokens: 10_000 }, 20_000).tokens).toBe(20_000);
    expect(resolveBudget(undefined, 7000)).toEqual({ tokens: 7000, usd: null, stopAt: 0.9 });
  });
});

describe('budgetAllows', () => {
  const budget = resolveBudget();

  it('allows a call landing exactly on stopAt × tokens', () => {
    expect(budgetAllows({ used: usage(40_000), projectedTokens: 5000, projectedUsd: 0, budget })).toEqual({ allowed: true });
    expect(budgetAllows({ used: zeroUsage, projectedTokens: 45_000, projectedUsd: 0, budget }).allowed).toBe(true);
  });

  it('refuses one token more, with a reason', () => {
    const decision = budgetAllows({ used: usage(40_000), projectedTokens: 5001, projectedUsd: 0, budget });
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toMatch(/45001 tokens, past 45000 \(90 % of the 50000-token budget\)/);
  });

  it('handles stopAt values that are not exact in binary', () => {
    const odd = resolveBudget({ tokens: 30_000, stopAt: 0.7 });
    expect(budgetAllows({ used: zeroUsage, projectedTokens: 21_000, projectedUsd: 0, budget: odd }).allowed).toBe(true);
    expect(budgetAllows({ used: zeroUsage, projectedTokens: 21_001, projectedUsd: 0, budget: odd }).allowed).toBe(false);
  });

  it('checks dollars only with a dollar cap', () => {
    expect(budgetAllows({ used: usage(0, 1000), projectedTokens: 1, projectedUsd: 1000, budget }).allowed).toBe(true);
    const capped = resolveBudget({ usd: 1 });
    expect(budgetAllows({ used: usage(0, 0.6), projectedTokens: 1, projectedUsd: 0.3, budget: capped }).allowed).toBe(true);
    const over = budgetAllows({ used: usage(0, 0.6), projectedTokens: 1, projectedUsd: 0.3001, budget: capped });
    expect(over.allowed).toBe(false);
    expect(over.reason).toMatch(/\$0\.9001, past \$0\.9000/);
  });

  it('needs both limits to hold', () => {
    const capped = resolveBudget({ tokens: 1000, usd: 1, stopAt: 1 });
    expect(budgetAllows({ used: usage(999, 0.5), projectedTokens: 2, projectedUsd: 0, budget: capped }).allowed).toBe(false);
    expect(budgetAllows({ used: usage(500, 0.5), projectedTokens: 500, projectedUsd: 0.5, budget: capped }).allowed).toBe(true);
  });
});
