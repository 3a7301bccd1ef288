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
 * A child run's drive gets a pool of its own tied to its parent's: a child
 * that shares the parent's budget gets `pool.share(own)`, whose every
 * reservation is also reserved in the parent (and so on up, across
 * grandchildren); a child with a budget of its own gets a slice of it,
 * `pool.slice(tokens)`, reserved in the parent whole and up front, then
 * shared by the child's steps. What a descendant spends counts as spent in
 * the parent's pool at once; the parent's usage catches up when the parent
 * charges its children (`book`), so the amount is counted exactly once.
 *
 * A reservation is a projection, and a projection made on the local estimate
 * can be low: the pools of one family share what they learn of the model
 * server's ratio (./family-calibration.ts), and a reservation made on an
 * estimate (`reserve(…, estimate)`) is raised when a higher ratio is learned
 * while its call is in flight (`grow`); a `pause_turn` continuation extends its
 * attempt's reservation, checked as a reservation is (`extend`).
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
import { highestCalibration, inputFactor, isCalibrated, type Calibration } from '../policy/calibration.js';
import { zeroUsage, type Usage } from '../run/types.js';
import { createFamilyCalibration, type FamilyCalibration } from './family-calibration.js';

/** Tokens and dollars. */
export interface Amount {
  readonly tokens: number;
  readonly usd: number;
}

/** A granted reservation; exactly one of `settle` or `release` ends it (later calls do nothing). */
export interface Reservation {
  /** What it holds now. */
  readonly tokens: number;
  readonly usd: number;
  /** The call was made and used `actual`: the reservation ends and the pool counts `actual` as spent. */
  settle(actual: Pick<Usage, 'totalTokens' | 'usd'>): void;
  /** No call was made (the attempt was aborted or refused): the reservation ends, nothing is spent. */
  release(): void;
  /** Part of it was spent (a slice's child made a call): it shrinks by `actual`, which the pool counts as spent; it stays open. */
  consume(actual: Pick<Usage, 'totalTokens' | 'usd'>): void;
  /** Its call is likely to cost more than it holds (a higher ratio was learned): it holds `tokens` (and `usd`) more, unchecked. */
  grow(tokens: number, usd: number): void;
  /** Holds `tokens` (and `usd`) more if the pool can grant them (as {@link BudgetPool.reserve} would); else why not. */
  extend(tokens: number, usd: number): string | null;
}

/** How a reservation made on a local estimate was projected, for raising it when a higher ratio is learned. */
export interface Estimate {
  /** The calibration it was projected with (none: before any ratio was known). */
  readonly calibration: Calibration | undefined;
  /** Its projection at another calibration. */
  readonly at: (calibration: Calibration) => Amount;
}

/** Where a child run's pool reads its own budget and spending (its run's context). */
export interface OwnBudget {
  readonly budget: () => ResolvedBudget;
  readonly spent: () => Pick<Usage, 'totalTokens' | 'usd'>;
  /** The run's own calibration (its context's). */
  readonly calibration?: () => Calibration | undefined;
}

export interface BudgetPool {
  /**
   * Reserves `tokens` (and `usd`) for one model call, or returns null when that would pass the limit. A reservation
   * made on a local `estimate` is raised while it lasts when the family learns a higher ratio than it was made with.
   */
  reserve(tokens: number, usd?: number, estimate?: Estimate): Reservation | null;
  /** What granted reservations hold and have not settled yet. */
  outstanding(): Amount;
  /** What was spent: settled calls (or, for a run's pool, the run's usage). */
  spent(): Amount;
  /**
   * Why reserving `tokens` (and `usd`) is refused now, or null when it would be granted; with `within` < 1, whether
   * they fit under that fraction of the limit (of this pool's and of every pool above it).
   */
  refusal(tokens: number, usd?: number, within?: number): string | null;
  /** The ratio to project with: the highest of this run's calibration, its parents', and what its family learned. */
  calibration(): Calibration | undefined;
  /** The family learns a count by the server against its local estimate (see ./family-calibration.ts). */
  learn(counted: number, estimated: number): void;
  /** Whether a call projected before any ratio was known is in flight anywhere in the family. */
  guessing(): boolean;
  /**
   * Reserves `tokens` (and `usd`) here up front, or returns null when that would pass the limit: a pool of that
   * limit (`stopAt` 1) whose spending moves from the reservation to this pool's spent; `close` releases what is left.
   */
  slice(tokens: number, usd?: number): BudgetPool | null;
  /** The pool of a child run sharing this budget: its own limit and spending, each reservation also reserved here. */
  share(own: OwnBudget): BudgetPool;
  /** A reservation made for a child pool: its spending counts as spent here until the run's usage holds it ({@link book}). */
  reserveFor(tokens: number, usd?: number): Reservation | null;
  /** The run's usage now holds `amount` that child runs spent (the run charged them): it no longer counts twice. */
  book(amount: Pick<Usage, 'totalTokens' | 'usd'>): void;
  /** Child runs spent `amount` that the run's usage does not hold yet (found in their records when a drive starts). */
  owe(amount: Pick<Usage, 'totalTokens' | 'usd'>): void;
  /** Ends a slice: what its up-front reservation still holds goes back to the parent. */
  close(): void;
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
  /** The pool each reservation is also reserved in (a shared child's). */
  readonly parent?: BudgetPool;
  /** A reservation in the parent that this pool's spending draws down (a slice's). */
  readonly hold?: Reservation;
  /** The run's own calibration (its context's). */
  readonly calibration?: () => Calibration | undefined;
  /** The pool this one was made from (a shared child's parent, a slice's origin): its calibration counts here too. */
  readonly above?: BudgetPool;
  /** What the pools of the family learn; a pool at the top makes it. */
  readonly family?: FamilyCalibration;
}

type Spend = Pick<Usage, 'totalTokens' | 'usd'>;

/** Creates a budget pool. */
export function createBudgetPool(options: BudgetPoolOptions): BudgetPool {
  const family = options.family ?? createFamilyCalibration();
  const held = new Set<{ tokens: number; usd: number }>();
  /** Without `spent`: what settled here. */
  let settled: Spend = { totalTokens: 0, usd: 0 };
  /** With `spent`: what child pools spent that the run's usage does not hold yet. */
  let unbooked: Spend = { totalTokens: 0, usd: 0 };
  const spentUsage = (): Usage => {
    const source = options.spent ? options.spent() : settled;
    return { ...zeroUsage, totalTokens: source.totalTokens + unbooked.totalTokens, usd: source.usd + unbooked.usd };
  };
  const count = (actual: Spend, forChild: boolean) => {
    if (!options.spent) settled = { totalTokens: settled.totalTokens + actual.totalTokens, usd: settled.usd + actual.usd };
    else if (forChild) unbooked = { totalTokens: unbooked.totalTokens + actual.totalTokens, usd: unbooked.usd + actual.usd };
    options.hold?.consume(actual);
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
  const refusal = (tokens: number, usd = 0, within = 1): string | null => {
    const others = outstanding();
    const budget = options.budget();
    const decision = budgetAllows({
      used: spentUsage(),
      projectedTokens: tokens + others.tokens,
      projectedUsd: usd + others.usd,
      budget: within === 1 ? budget : { ...budget, stopAt: budget.stopAt * within },
    });
    if (decision.allowed) return options.parent?.refusal(tokens, usd, within) ?? null;
    const reason = decision.reason ?? 'the budget is spent';
    return others.tokens > 0 ? `${reason} (counting ${others.tokens} tokens reserved by calls in flight)` : reason;
  };
  const reserve = (tokens: number, usd: number, forChild: boolean, estimate?: Estimate): Reservation | null => {
    if (refusal(tokens, usd) !== null) return null;
    const upstream = options.parent ? options.parent.reserveFor(tokens, usd) : null;
    if (options.parent && !upstream) return null;
    const amount = { tokens, usd };
    held.add(amount);
    let open = true;
    const grow = (more: number, moreUsd: number) => {
      if (!open) return;
      amount.tokens += Math.max(0, more);
      amount.usd += Math.max(0, moreUsd);
      upstream?.grow(more, moreUsd);
    };
    // Raised to its projection at a higher ratio the family learns while the call is in flight.
    const unfollow = estimate
      ? family.follow({
          factor: inputFactor(estimate.calibration),
          calibrated: isCalibrated(estimate.calibration),
          raise: (calibration) => {
            const raised = estimate.at(calibration);
            grow(raised.tokens - amount.tokens, raised.usd - amount.usd);
          },
        })
      : null;
    const end = () => {
      open = false;
      held.delete(amount);
      unfollow?.();
    };
    return {
      get tokens() {
        return amount.tokens;
      },
      get usd() {
        return amount.usd;
      },
      settle(actual) {
        if (!open) return;
        end();
        count(actual, forChild);
        upstream?.settle(actual);
      },
      release() {
        if (!open) return;
        end();
        upstream?.release();
      },
      consume(actual) {
        if (!open) return;
        amount.tokens = Math.max(0, amount.tokens - actual.totalTokens);
        amount.usd = Math.max(0, amount.usd - actual.usd);
        count(actual, forChild);
        upstream?.consume(actual);
      },
      grow,
      extend(more, moreUsd) {
        if (!open) return null;
        const reason = refusal(more, moreUsd);
        if (reason === null) grow(more, moreUsd);
        return reason;
      },
    };
  };
  const pool: BudgetPool = {
    reserve: (tokens, usd = 0, estimate) => reserve(tokens, usd, false, estimate),
    reserveFor: (tokens, usd = 0) => reserve(tokens, usd, true),
    outstanding,
    spent: () => {
      const used = spentUsage();
      return { tokens: used.totalTokens, usd: used.usd };
    },
    refusal,
    calibration: () => highestCalibration(options.calibration?.(), family.learned(), options.above?.calibration()),
    learn: (counted, estimated) => family.learn(counted, estimated),
    guessing: () => family.guessing(),
    slice(tokens, usd) {
      const hold = pool.reserveFor(tokens, usd ?? 0);
      return hold ? createBudgetPool({ budget: () => ({ tokens, usd: usd ?? null, stopAt: 1 }), hold, above: pool, family }) : null;
    },
    share: (own) => createBudgetPool({ ...own, parent: pool, above: pool, family }),
    book(amount) {
      unbooked = { totalTokens: Math.max(0, unbooked.totalTokens - amount.totalTokens), usd: Math.max(0, unbooked.usd - amount.usd) };
    },
    owe(amount) {
      count({ totalTokens: Math.max(0, amount.totalTokens), usd: Math.max(0, amount.usd) }, true);
    },
    close: () => options.hold?.release(),
  };
  return pool;
}
