/**
 * The named guards of a compiled machine: the budget, retry, loop and branch
 * decisions. Pure functions of the context and the event.
 */
import { budgetAllows } from '../policy/budget.js';
import type { RunContext } from './context.js';

type Ev = { type: string } & Record<string, unknown>;
type Args = { context: RunContext; event: Ev };

export const guards = {
  /** The next model call fits under `stopAt` of the token (and dollar) budget. */
  withinBudget: ({ context, event }: Args) =>
    budgetAllows({
      used: context.usage,
      projectedTokens: Number(event['projectedTokens'] ?? 0),
      projectedUsd: Number(event['projectedUsd'] ?? 0),
      budget: context.budget,
    }).allowed,

  /** The step was entered more often than it may be in one run. */
  visitLimitReached: ({ context }: Args, params: { step: string; maxVisits: number }) =>
    (context.visits[params.step] ?? 0) > params.maxVisits,

  /** The step produced the same (normalised) tool input more often than allowed. */
  repeatedInput: ({ context, event }: Args, params: { step: string; maxRepeats: number }) => {
    const fingerprint = event['fingerprint'];
    if (typeof fingerprint !== 'string') return false;
    const seen = (context.fingerprints[params.step] ?? []).filter((f) => f === fingerprint).length;
    return seen + 1 > params.maxRepeats;
  },

  /** The step stopped because its next model call (a `pause_turn` continuation) would cross the budget. */
  budgetRefused: ({ event }: Args) => (event['error'] as { kind?: unknown } | undefined)?.kind === 'budget',

  /** The step's tool was not called because its circuit breaker is open. */
  breakerOpen: ({ event }: Args) => (event['error'] as { kind?: unknown } | undefined)?.kind === 'breaker_open',

  /** The failure may be retried and attempts remain. */
  canRetry: ({ context, event }: Args, params: { maxAttempts: number }) =>
    event['retryable'] === true && context.attempt < params.maxAttempts,

  /** The engine evaluated this branch of a choice as the first true one. */
  branch: ({ event }: Args, params: { index: number; when: string }) => event['index'] === params.index,
};
