/** Guards and policies: pure functions of state, options and time, no I/O. */
export { retryDefaults, resolveRetry, backoffDelay, type ResolvedRetry } from './backoff.js';
export { normalizeForLoop, loopFingerprint, countRepeats, type LoopOptions } from './loop.js';
export {
  closedBreaker,
  breakerAllows,
  breakerRecord,
  type BreakerState,
  type BreakerOptions,
  type BreakerDecision,
} from './breaker.js';
export { priceTable, fallbackPrice, priceOf, costUsd, type ModelPrice } from './pricing.js';
export { budgetDefaults, resolveBudget, budgetAllows, type ResolvedBudget, type BudgetDecision } from './budget.js';
export { limitDefaults, resolveLimits, type ResolvedLimits } from './limits.js';
