/**
 * The budget a child run starts (or is resumed) with. With a slice
 * (`budget: { tokens }` on the step) the child gets exactly that, reserved
 * from the parent up-front (the step's `step.run` projects it, so the parent's
 * budget guard refuses a slice it cannot afford). Without one, the child
 * shares the parent's budget: it gets what the parent has left under its
 * `stopAt` now, minus what other children of the same step already spent.
 * Either way the parent is charged what its children spend when they settle.
 *
 * That budget is the child's own bound; the joint one is the parent's budget
 * pool: a child's drive gets `pool.share(...)` or `pool.slice(tokens)` of the
 * parent's pool (see `children.ts`), so every model call of every child,
 * grandchild and sibling reserves from the same pool before it is made. The
 * pool counts a child's spending at once; {@link sendCharged} tells it when
 * the parent's usage has caught up, so it is counted once.
 */
import type { RunContext } from '../compile/context.js';
import { resolveBudget, type ResolvedBudget } from '../policy/budget.js';
import type { Budget } from '../definition/fields.js';
import type { RunEvent } from '../compile/events.js';
import { addUsage, subUsage, zeroUsage, type Usage } from '../run/types.js';
import type { BudgetPool } from './budget-pool.js';
import type { RunScope } from './scope.js';

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

/**
 * The budget a child sharing `pool` starts (or is resumed) with: what the pool has not spent under the parent's
 * `stopAt`, plus what the child itself has spent (`own`: its limit is checked against its whole usage, and the pool's
 * spend already counts that part).
 */
export function sharedChildBudget(parent: Pick<RunContext, 'budget'>, pool: Pick<BudgetPool, 'spent'>, own: Usage = zeroUsage): ResolvedBudget {
  const { budget } = parent;
  const spent = pool.spent();
  return {
    tokens: Math.max(0, Math.floor(budget.stopAt * budget.tokens) - spent.tokens) + own.totalTokens,
    usd: budget.usd === null ? null : Math.max(0, budget.stopAt * budget.usd - spent.usd) + own.usd,
    stopAt: 1,
  };
}

/**
 * Sends an event that charges the run what its children spent (`chargeChildren`),
 * and books the charge in the run's pool, which counted that spending when the children settled their calls.
 */
export function sendCharged(run: Pick<RunScope, 'send' | 'context' | 'budget'>, event: RunEvent): void {
  const before = run.context().usage;
  run.send(event);
  const after = run.context().usage;
  run.budget.book({ totalTokens: after.totalTokens - before.totalTokens, usd: after.usd - before.usd });
}

/**
 * Charges the run what a step's children spent as they come to rest (`child.rest`: a wait, a timer of theirs; its
 * `usage` their total so far this visit), and journals the part the journal does not carry yet, on a `waiting` entry
 * of the step (`data.resting`): the journal sums to the run's usage while they rest, and the step's settling journals
 * only what they spend after.
 */
export async function chargeResting(
  run: Pick<RunScope, 'send' | 'context' | 'budget' | 'note' | 'where' | 'journal'>,
  step: string,
  event: Extract<RunEvent, { type: 'child.rest' }>,
): Promise<void> {
  sendCharged(run, event);
  if (!event.usage) return;
  const usage = await unjournaled(run, step, event.usage);
  if (usage.totalTokens === 0 && usage.usd === 0) return;
  run.note({ ...run.where(step), at: event.at, event: 'waiting', usage, data: { resting: true, waiting: event.waiting, wakeAt: event.wakeAt } });
}

/**
 * A `map` or `workflow` step aborted by a sibling branch's failure (fail_fast), which the run has left: the run is
 * charged what its children spent that it was not charged yet (`run.charge`), journaled as the step's cancelled
 * attempt (its `usage` what the journal had not counted, `data.charged` what the run was charged now).
 */
export async function chargeAborted(
  run: Pick<RunScope, 'send' | 'context' | 'budget' | 'note' | 'where' | 'journal' | 'clock'>,
  step: string,
  total: Usage,
  reason: unknown,
  /** The step's visit and what the run had been charged for its children when its effect began (the run may have entered the step again since). */
  began: { readonly visit: number; readonly charged: Usage },
): Promise<void> {
  const charged = subUsage(total, began.charged);
  const usage = await unjournaled(run, step, total, began.visit);
  if (charged.totalTokens === 0 && charged.usd === 0 && usage.totalTokens === 0 && usage.usd === 0) return;
  const at = run.clock.now();
  sendCharged(run, { type: 'run.charge', at, usage: charged });
  noteAborted(run, { step, visit: began.visit, at }, usage, charged, `the step was aborted: ${reason instanceof Error ? reason.message : String(reason ?? 'aborted')}`);
}

/**
 * The journal entry of a `map` or `workflow` step the run left (aborted or not running): a cancelled `failed` entry
 * with what the journal had not counted of its children's spend (`usage`) and what the run was charged now
 * (`data.charged`, which ./redrive.ts and ./replay.ts read through `abortCharge`).
 */
export function noteAborted(run: Pick<RunScope, 'note'>, where: { readonly step: string; readonly visit: number; readonly at: number }, usage: Usage, charged: Usage, message: string): void {
  run.note({ ...where, attempt: 0, event: 'failed', usage, error: { kind: 'cancelled', message }, data: { aborted: true, charged } });
}

/**
 * The usage the journal entry of a step's settling carries (a `map` or `workflow` step: its children's `total` so
 * far this visit): the total less what the step's earlier entries of this visit carry, so the journal sums to the
 * run's usage however often the step stopped (out of budget, failed, resting at a wait) and went on. The stored
 * journal is read once per drive (per `run`), and each settling's share is added to that tally, so a step that
 * settles many times in one drive (a `workflow` step in a loop) does not read the journal each time.
 */
export async function unjournaled(run: Pick<RunScope, 'journal' | 'where'>, step: string, total: Usage, visit = run.where(step).visit): Promise<Usage> {
  let tally = tallies.get(run);
  if (!tally) {
    tally = run.journal().then((entries) => {
      const sums = new Map<string, Usage>();
      for (const entry of entries) if (entry.step !== null && entry.usage) sums.set(keyOf(entry.step, entry.visit), addUsage(sums.get(keyOf(entry.step, entry.visit)) ?? zeroUsage, entry.usage));
      return sums;
    });
    tallies.set(run, tally);
  }
  const sums = await tally;
  const key = keyOf(step, visit);
  const journaled = sums.get(key) ?? zeroUsage;
  const usage = journaled.totalTokens === 0 && journaled.usd === 0 ? total : subUsage(total, journaled);
  sums.set(key, addUsage(journaled, usage));
  return usage;
}

const keyOf = (step: string, visit: number) => `${visit}:${step}`;
/** Usage the journal carries per step visit, as of each drive's first settling (the drive's scope is the key). */
const tallies = new WeakMap<object, Promise<Map<string, Usage>>>();
