/**
 * The token (and dollar) budget of a run shared by its concurrent model calls.
 * Before each call a step reserves the call's projected cost; the pool grants
 * the reservation only if what was spent plus every outstanding reservation
 * plus this one stays within `stopAt` × budget, and the check and the booking
 * happen in one synchronous step, so no two steps can both take the last
 * tokens. After the call the step settles its reservation to the actual
 * usage. However many branches run at once, spent + outstanding never passes
 * the limit; a step that cannot reserve ends the run `budget_exhausted`
 * (resumable), and its running siblings stop at their next call.
 *
 * A pool can hand out a slice (`pool.slice(tokens)`): a pool of its own, with
 * its own limit, whose reservations are also reserved in the parent, so a
 * part of a run (a child run) can get its own budget or, given the parent
 * pool itself, share the parent's.
 *
 * @example
 * ```ts
 * const pool = createBudgetPool({ budget: () => context.budget, spent: () => context.usage });
 * const reservation = pool.reserve(projectedTokens, projectedUsd);
 * if (!reservation) return exhausted(pool.refusal(projectedTokens, projectedUsd));
 * const outcome = await call();
 * charge(outcome.usage); // the run's usage now holds the call
 * reservation.settle(outcome.usage);
 * ```
 */
import { budgetAllows, type ResolvedBudget } from '../policy/budget.js';
import { zeroUsage, type Usage } from '../run/types.js';

/** Tokens and dollars. */
export interface Amount {
  readonly tokens: number;
  readonly usd: number;
}

/** A granted reservation; exactly one of `settle` or `release` ends it (later calls do nothing). */
export interface Reservation {
  readonly tokens: number;
  readonly usd: number;
  /** The call was made and used `actual`: the reservation ends and the pool counts `actual` as spent. */
  settle(actual: Pick<Usage, 'totalTokens' | 'usd'>): void;
  /** No call was made (the attempt was aborted or refused): the reservation ends, nothing is spent. */
  release(): void;
}

export interface BudgetPool {
  /** Reserves `tokens` (and `usd`) for one model call, or returns null when that would pass the limit. */
  reserve(tokens: number, usd?: number): Reservation | null;
  /** What granted reservations hold and have not settled yet. */
  outstanding(): Amount;
  /** What was spent: settled calls (or, for a run's pool, the run's usage). */
  spent(): Amount;
  /** Why reserving `tokens` (and `usd`) is refused now, or null when it would be granted. */
  refusal(tokens: number, usd?: number): string | null;
  /** A pool of its own limit (`tokens`, `usd`, taken whole: `stopAt` 1) whose reservations are also reserved here. */
  slice(tokens: number, usd?: number): BudgetPool;
}

export interface BudgetPoolOptions {
  /** The budget (read at each reservation, so a resume with a larger budget takes effect). */
  readonly budget: () => ResolvedBudget;
  /**
   * What was spent, when the pool is not the one keeping count: a run's pool
   * reads the run's usage, which its steps charge before they settle. Without
   * it the pool counts what its reservations settle to.
   */
  readonly spent?: () => Pick<Usage, 'totalTokens' | 'usd'>;
  /** The pool this one is a slice of. */
  readonly parent?: BudgetPool;
}

/** Creates a budget pool. */
export function createBudgetPool(options: BudgetPoolOptions): BudgetPool {
  const held = new Set<Amount>();
  let settled = { totalTokens: 0, usd: 0 };
  const spentUsage = (): Usage => {
    const source = options.spent ? options.spent() : settled;
    return { ...zeroUsage, totalTokens: source.totalTokens, usd: source.usd };
  };
  const outstanding = (): Amount => {
    let tokens = 0;
    let usd = 0;
    for (const amount of held) {
      tokens += amount.tokens;
      usd += amount.usd;
    }
    return { tokens, usd };
  };
  const refusal = (tokens: number, usd = 0): string | null => {
    const others = outstanding();
    const decision = budgetAllows({ used: spentUsage(), projectedTokens: tokens + others.tokens, projectedUsd: usd + others.usd, budget: options.budget() });
    if (decision.allowed) return options.parent?.refusal(tokens, usd) ?? null;
    const reason = decision.reason ?? 'the budget is spent';
    return others.tokens > 0 ? `${reason} (counting ${others.tokens} tokens reserved by calls in flight)` : reason;
  };
  const pool: BudgetPool = {
    reserve(tokens, usd = 0) {
      if (refusal(tokens, usd) !== null) return null;
      const upstream = options.parent ? options.parent.reserve(tokens, usd) : null;
      if (options.parent && !upstream) return null;
      const amount: Amount = { tokens, usd };
      held.add(amount);
      let open = true;
      return {
        tokens,
        usd,
        settle(actual) {
          if (!open) return;
          open = false;
          held.delete(amount);
          if (!options.spent) settled = { totalTokens: settled.totalTokens + actual.totalTokens, usd: settled.usd + actual.usd };
          upstream?.settle(actual);
        },
        release() {
          if (!open) return;
          open = false;
          held.delete(amount);
          upstream?.release();
        },
      };
    },
    outstanding,
    spent: () => {
      const used = spentUsage();
      return { tokens: used.totalTokens, usd: used.usd };
    },
    refusal,
    slice: (tokens, usd) => createBudgetPool({ budget: () => ({ tokens, usd: usd ?? null, stopAt: 1 }), parent: pool }),
  };
  return pool;
}
