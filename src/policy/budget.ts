/**
 * Token and dollar budget of a run. Before each model call the engine asks
 * {@link budgetAllows} whether the projected call keeps the run within
 * `stopAt` of its budget; if not, the run stops in a resumable
 * `budget_exhausted` state.
 */
import { StepwiseError } from '../errors.js';
import type { Budget } from '../definition/schema.js';
import type { Usage } from '../run/types.js';

/** A budget with every field set. */
export interface ResolvedBudget {
  /** Total tokens (input + output) of a run. */
  readonly tokens: number;
  /** Dollar cap of a run, or `null` for none. */
  readonly usd: number | null;
  /** Fraction of the budget no model call may take the run past. */
  readonly stopAt: number;
}

/** The budget when a definition says nothing: 50,000 tokens, no dollar cap, stop at 90 %. */
export const budgetDefaults: ResolvedBudget = { tokens: 50_000, usd: null, stopAt: 0.9 };

/**
 * Fills in a definition's `budget`; `overrideTokens` (e.g. `--budget` or a
 * run option) replaces its token total.
 *
 * @example
 * resolveBudget({ tokens: 20000 }); // { tokens: 20000, usd: null, stopAt: 0.9 }
 */
/**
 * Throws `usage` for a token budget a caller gives a start or a resume that is not a whole number above zero: NaN
 * would switch every check off (no comparison with it is true), Infinity remove the limit, 0 or less stop at once.
 * @example
 * checkBudgetOverride(Number(undefined)); // throws: the budget must be a whole number of tokens above 0, not NaN
 */
export function checkBudgetOverride(tokens: number | undefined): void {
  if (tokens === undefined || (Number.isSafeInteger(tokens) && tokens > 0)) return;
  throw new StepwiseError('usage', `the budget must be a whole number of tokens above 0, not ${String(tokens)}: nothing was started or changed`);
}

export function resolveBudget(budget?: Budget, overrideTokens?: number): ResolvedBudget {
  return {
    tokens: overrideTokens ?? budget?.tokens ?? budgetDefaults.tokens,
    usd: budget?.usd ?? budgetDefaults.usd,
    stopAt: budget?.stopAt ?? budgetDefaults.stopAt,
  };
}

/** What {@link budgetAllows} decides. */
export interface BudgetDecision {
  readonly allowed: boolean;
  /** Why not, in words, when not allowed. */
  readonly reason?: string;
}

/** Rounding slack for `stopAt × limit`, so a call landing exactly on the limit is allowed. */
const slack = 1e-9;

/**
 * Allows a model call iff `used.totalTokens + projectedTokens ≤ stopAt × tokens`
 * and, with a dollar cap, `used.usd + projectedUsd ≤ stopAt × usd`. Exactly at
 * the limit is allowed. A step that projects nothing (it calls no model: a tool, a
 * choice) spends nothing, so it is allowed even when a reply billed more than it
 * was projected at took the run past the limit: the next model call is refused.
 *
 * @example
 * budgetAllows({ used: zeroUsage, projectedTokens: 45000, projectedUsd: 0, budget: resolveBudget() }); // { allowed: true }
 */
export function budgetAllows(request: {
  readonly used: Usage;
  readonly projectedTokens: number;
  readonly projectedUsd: number;
  readonly budget: ResolvedBudget;
}): BudgetDecision {
  const { used, projectedTokens, projectedUsd, budget } = request;
  if (projectedTokens <= 0 && projectedUsd <= 0) return { allowed: true };
  const tokenLimit = budget.stopAt * budget.tokens;
  const tokensAfter = used.totalTokens + projectedTokens;
  if (tokensAfter > tokenLimit * (1 + slack)) {
    return {
      allowed: false,
      reason: `the next model call would bring the run to ${tokensAfter} tokens, past ${Math.floor(tokenLimit + slack)} (${percent(budget.stopAt)} of the ${budget.tokens}-token budget)`,
    };
  }
  if (budget.usd !== null) {
    const usdLimit = budget.stopAt * budget.usd;
    const usdAfter = used.usd + projectedUsd;
    if (usdAfter > usdLimit * (1 + slack)) {
      return {
        allowed: false,
        reason: `the next model call would bring the run to $${usdAfter.toFixed(4)}, past $${usdLimit.toFixed(4)} (${percent(budget.stopAt)} of the $${budget.usd} budget)`,
      };
    }
  }
  return { allowed: true };
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10} %`;
}
