/**
 * The budget a child run starts (or is resumed) with. With a slice
 * (`budget: { tokens }` on the step) the child gets exactly that, reserved
 * from the parent up-front (the step's `step.run` projects it, so the parent's
 * budget guard refuses a slice it cannot afford). Without one, the child
 * shares the parent's budget: it gets what the parent has left under its
 * `stopAt` now, minus what other children of the same step already spent.
 * Either way the parent is charged what its children spend when they settle.
 *
 * This is the one seam for a shared budget pool (atomic reservations across
 * concurrent steps): replace the shared case here.
 */
import type { RunContext } from '../compile/context.js';
import { resolveBudget, type ResolvedBudget } from '../policy/budget.js';
import type { Budget } from '../definition/fields.js';
import type { Usage } from '../run/types.js';

export function childBudget(parent: Pick<RunContext, 'budget' | 'usage'>, slice: number | undefined, child: Budget | undefined, spentBySiblings: Usage | null = null): ResolvedBudget {
  if (slice !== undefined) return resolveBudget(child, slice);
  const { budget, usage } = parent;
  const siblingTokens = spentBySiblings?.totalTokens ?? 0;
  const siblingUsd = spentBySiblings?.usd ?? 0;
  return {
    tokens: Math.max(0, Math.floor(budget.stopAt * budget.tokens) - usage.totalTokens - siblingTokens),
    usd: budget.usd === null ? null : Math.max(0, budget.stopAt * budget.usd - usage.usd - siblingUsd),
    stopAt: 1,
  };
}
