/**
 * The effect of a running `map` step: starts and drives its items (child runs
 * of the body) up to `maxConcurrency` at once, the first alone until it has
 * made its first model call, and settles the step from where the items are
 * (done, failed past the tolerance, out of budget, or resting).
 */
import { attemptsSinceResume, stepRunOf } from '../compile/context.js';
import { StepwiseError } from '../errors.js';
import { compileMapping, evaluateMapping } from '../expr/index.js';
import { bodyWorkflow, DEFAULT_MAX_CONCURRENCY, type MapSpec } from '../kinds/map-body.js';
import type { RunRecord } from '../run/types.js';
import { addUsage, zeroUsage } from '../run/types.js';
import { scopeOf } from '../steps/types.js';
import { chargeAborted, chargeResting, sendCharged, sharedChildBudget, unjournaled } from './child-budget.js';
import { childIdOf } from './child-ids.js';
import { interruptedDrive, stopOf, timerDue } from './child-step.js';
import { locatedMessage, originBelow, throughItem } from './failure-origin.js';
import { itemRuns, itemState, itemsUsage, nextAttempt, tooManyFailures, type ItemState } from './map-items.js';
import type { RunScope } from './scope.js';

export const failedEvent = (id: string, at: number, message: string, kind: 'invalid_data' | 'definition_invalid' | 'loop' | 'tool_error' = 'invalid_data') =>
  ({ type: 'step.failed', step: id, at, usage: zeroUsage, error: { kind, message }, retryable: false, retryAt: null }) as const;

/** The items of a map step, evaluated against the run now. */
export async function itemsOf(run: RunScope, spec: MapSpec): Promise<{ items: unknown[]; context: Record<string, unknown> }> {
  const scope = scopeOf({ runId: run.runId, context: run.context() });
  const items = await evaluateMapping(compileMapping(spec.map.items), scope);
  if (!Array.isArray(items)) throw new Error(`map.items must yield an array, not ${items === null ? 'null' : typeof items}`);
  if (spec.map.maxItems !== undefined && items.length > spec.map.maxItems) throw new Error(`map.items yielded ${items.length} items, more than maxItems ${spec.map.maxItems}`);
  const context = spec.map.context === undefined ? {} : ((await evaluateMapping(compileMapping(spec.map.context), scope)) as Record<string, unknown>);
  return { items, context };
}

/** Whether a live item's run can go on now: running with no timer, or its timer (a backoff, a wait's timeout) is due. */
const dueNow = (child: RunRecord, now: number) => (child.wakeAt === null ? child.status === 'running' : child.wakeAt <= now);

/**
 * Runs the items: starts and drives up to `maxConcurrency` at once until each is done, failed for good, or rests.
 * `callsModel` tells whether the body calls the model (asked only while no item has warmed the prefix yet).
 */
export async function runItems(run: RunScope, id: string, spec: MapSpec, callsModel: () => Promise<boolean>, isFinal: (step: object) => boolean): Promise<void> {
  // A sibling branch's failure (fail_fast) aborts the step: the items' drives stop where they are, and no item starts.
  // Taken before anything is awaited, so an abort meanwhile is not missed.
  const stop = run.stepSignal(id);
  const visit = run.context().visits[id] ?? 1;
  // What the items spent that the run was charged already (their spend beyond it, after a crash, the pool counts from the start).
  const charged = stepRunOf(run.context(), id).charged ?? zeroUsage;
  const children = run.children!;
  const at = run.clock.now();
  let prepared;
  try {
    prepared = await itemsOf(run, spec);
  } catch (error) {
    const message = `map "${id}": ${(error as Error).message}`;
    run.note({ ...run.where(id), event: 'failed', error: { kind: 'invalid_data', message } });
    run.send(failedEvent(id, at, message));
    return;
  }
  const { items, context } = prepared;
  // No attempt since a resume: the parent was resumed (or redriven) at the map.
  const resumed = attemptsSinceResume(stepRunOf(run.context(), id)) === 0;
  // The number of the map visit's latest resume (a redrive is none): each failed item is resumed once by it.
  const resumes = stepRunOf(run.context(), id).resumes ?? 0;
  let source;
  try {
    source = await children.inline(run, bodyWorkflow(run.workflow, id, spec, isFinal), id);
  } catch (error) {
    // A body the engine cannot compile (a definition that reached it unchecked): the step fails, no item starts.
    // The body is part of the run's kept definition, so no resume can run it: `definition_invalid`, not resumable.
    if (!(error instanceof StepwiseError && error.code === 'definition_invalid')) throw error;
    const message = `map "${id}": its body cannot run: ${error.message}`;
    run.note({ ...run.where(id), event: 'failed', error: { kind: 'definition_invalid', message } });
    run.send(failedEvent(id, at, message, 'definition_invalid'));
    return;
  }
  // Read once for all items: the parent's options (seed, faults) every item inherits.
  const parentOptions = run.record().options;
  const as = spec.map.as ?? 'item';
  const maxAttempts = spec.map.retry?.maxAttempts ?? 1;
  const byIndex = itemRuns(await children.list(run.runId), id, visit);
  // A done item's snapshot is not looked at again (its output is on the record): not kept while the others run.
  const record = (child: RunRecord) => {
    const kept = child.status === 'done' ? { ...child, snapshot: null } : child;
    byIndex.set(child.options.parent!.index!, [...(byIndex.get(child.options.parent!.index!) ?? []).filter((r) => r.id !== child.id), kept]);
  };
  const stateOf = (index: number): ItemState => itemState(byIndex.get(index) ?? [], maxAttempts);
  const owed = itemsUsage(byIndex);
  run.budget.owe({ totalTokens: owed.totalTokens - charged.totalTokens, usd: owed.usd - charged.usd });

  // The first item runs alone until it has made its first model call (it warms the shared prompt prefix), or ended;
  // a body that calls no model, nor do the child definitions it starts, needs no warm-up.
  let warmed = [...byIndex.values()].some((runs) => runs.some((r) => r.usage.totalTokens > 0 || r.status !== 'running')) || !(await callsModel());
  /** Wakes the scheduling loop: an item settled, or the first one warmed the prefix. */
  let kick: () => void = () => {};
  let kicked = Promise.resolve();
  /** The first error an item's drive threw (a lost lease, a store failure): the effect throws it. */
  let thrown: { error: unknown } | null = null;
  const inflight = new Map<number, Promise<void>>();
  /** Items driven in this effect that came to rest (waiting, a timer, out of budget): not driven again in it. */
  const rested = new Set<number>();

  const runnable = (index: number): boolean => {
    if (inflight.has(index) || rested.has(index)) return false;
    const state = stateOf(index);
    // Advanced one step at a time, an item that can do nothing yet (its timer is not due, or it waits for an event)
    // takes no turn, so the items that can go on get theirs.
    if (run.mode === 'step' && state.kind === 'live' && !dueNow(state.run, run.clock.now())) return false;
    // Firing only what is due (before an event or a cancel): the items whose timer came due fire it, and no item starts or resumes.
    if (run.mode === 'due') return state.kind === 'live' && timerDue(state.run, run.clock.now());
    if (state.kind === 'new' || state.kind === 'retry' || state.kind === 'live') return true;
    if (state.kind === 'failed') return (state.run.options.parent?.resumed ?? 0) < resumes && children.resumable(state.run);
    return state.kind === 'exhausted' && resumed && children.resumable(state.run);
  };

  /** Sees every commit of every item: the first model call warms the prefix. */
  const onCommit = (committed: RunRecord) => {
    if (!warmed && committed.usage.totalTokens > 0) {
      warmed = true;
      kick();
    }
  };
  const startOptions = { onCommit, stop };

  const drive = async (index: number) => {
    const state = stateOf(index);
    let driven: RunRecord;
    if (state.kind === 'new' || state.kind === 'retry') {
      // Its runs were read above and this attempt has none yet (only this drive, under the lease, starts them):
      // the new run is created by its first commit.
      const { round, attempt } = nextAttempt(state);
      driven = await children.start(
        run,
        {
          id: childIdOf(run.runId, id, visit, { index, round, attempt }),
          parent: { runId: run.runId, step: id, visit, index, round, attempt },
          source,
          input: { ...context, [as]: items[index], index },
          budget: sharedChildBudget(run.context(), run.budget),
          ...(parentOptions ? { parentOptions } : {}),
        },
        startOptions,
      );
    } else {
      const stored = (state as Extract<ItemState, { run: RunRecord }>).run;
      const budget = sharedChildBudget(run.context(), run.budget, stored.usage);
      const resume = state.kind === 'exhausted' || state.kind === 'failed';
      // A failed item keeps, with the commit that resumes it, which resume did: that one does not resume it again.
      const child = state.kind === 'failed' ? { ...stored, options: { ...stored.options, parent: { ...stored.options.parent!, resumed: resumes } } } : stored;
      driven = await children.drive(run, child, {
        ...(resume ? { event: { event: { type: 'run.resume', at: run.clock.now(), budget }, journal: [{ step: null, visit: 0, attempt: 0, event: 'resumed', at: run.clock.now(), data: { budget, parent: run.runId } }] } } : {}),
        onCommit,
        stop,
      });
    }
    record(driven);
    if (!warmed && driven.status !== 'running') {
      warmed = true;
      kick();
    }
    if (driven.status === 'running' || driven.status === 'waiting' || driven.status === 'budget_exhausted') rested.add(index);
  };

  // Advanced one step at a time (`engine.step`), the map drives at most `limit` items one step each per call.
  let started = 0;
  /**
   * Items that may still be driven in this effect, in input order. An item's state changes only while it is
   * driven, so one that is neither in flight nor runnable stays so: it leaves the list, and each round looks
   * at the items still open instead of all of them.
   */
  let open = items.map((_, index) => index);
  const rethrow = () => {
    const failed = thrown as { error: unknown } | null; // set by the items' drives, which TypeScript does not see
    if (failed) throw failed.error;
  };
  for (;;) {
    rethrow();
    // Stopped (the step aborted, the drive cancelled or draining): no item starts; those in flight stop at their own step boundaries.
    if (interruptedDrive(run) || stop.aborted || run.stop?.aborted) break;
    // Made before looking at the items: whatever settles from here on wakes the wait below.
    kicked = new Promise<void>((resolve) => (kick = resolve));
    const limit = warmed ? (spec.map.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY) : 1;
    const still: number[] = [];
    for (let at = 0; at < open.length; at++) {
      if (inflight.size >= limit || (run.mode === 'step' && started >= limit)) {
        for (; at < open.length; at++) still.push(open[at]!);
        break;
      }
      const index = open[at]!;
      if (inflight.has(index)) {
        still.push(index);
        continue;
      }
      if (!runnable(index)) continue;
      still.push(index);
      started++;
      const job = drive(index)
        .catch((error: unknown) => {
          thrown ??= { error };
        })
        .finally(() => {
          inflight.delete(index);
          kick();
        });
      inflight.set(index, job);
    }
    open = still;
    if (inflight.size === 0) break;
    await kicked;
  }
  await Promise.allSettled(inflight.values());
  rethrow();
  const stopped = stopOf(run, stop);
  if (stopped?.kind === 'drive') return;
  if (stopped) {
    // Aborted or cancelled: what the items and the runs below them spent (an item stopped mid-step has not settled
    // what is below it).
    let below = zeroUsage;
    for (const runs of byIndex.values()) for (const item of runs) if (item.status === 'running' || item.status === 'waiting') below = addUsage(below, await children.uncounted(item));
    return chargeAborted(run, id, addUsage(itemsUsage(byIndex), below), stopped.reason, { visit, charged });
  }

  run.countExecuted();
  const now = run.clock.now();
  const usage = itemsUsage(byIndex);
  const states = items.map((_, index) => stateOf(index));
  const pending = states.filter((s) => s.kind === 'live' || s.kind === 'new' || s.kind === 'retry');
  if (pending.length > 0) {
    const live = pending.flatMap((s) => (s.kind === 'live' ? [s.run] : []));
    const timers = live.map((r) => r.wakeAt).filter((w): w is number => w !== null);
    const waiting = live.length > 0 && live.every((r) => r.status === 'waiting');
    // An item that can go on now (advanced one step, or not started yet) leaves no timer to wait for.
    const ready = pending.some((s) => s.kind !== 'live' || (s.run.status === 'running' && s.run.wakeAt === null));
    await chargeResting(run, id, { type: 'child.rest', step: id, at: now, waiting, wakeAt: timers.length && !ready ? Math.min(...timers) : null, usage });
    return;
  }
  const failed = states.flatMap((s, index) => (s.kind === 'failed' || s.kind === 'exhausted' ? [{ index, state: s }] : []));
  const failures = failed.map(({ index, state }) => ({ index, child: state.run.id, status: state.run.status, error: state.run.failure }));
  /** The child run that settled each item, in input order: the parent's link to its items. */
  const childIds = states.map((s) => (s.kind === 'new' ? null : s.run.id));
  const exhausted = failed.filter((f) => f.state.kind === 'exhausted');
  if (exhausted.length > 0) {
    const first = exhausted[0]!;
    const origin = originBelow(first.state.run.failure?.step ?? null, first.state.run.failure ?? { message: 'budget' });
    const message = locatedMessage(`map "${id}": ${exhausted.length} item(s) ran out of budget; item ${first.index}`, origin);
    sendCharged(run, { type: 'step.failed', step: id, at: now, usage, error: { kind: 'budget', message, origin: throughItem(first.index, origin) }, retryable: false, retryAt: null });
    run.note({ ...run.where(id), at: now, event: 'budget_exhausted', usage: await unjournaled(run, id, usage), error: { kind: 'budget', message }, data: { failures, children: childIds } });
    return;
  }
  if (tooManyFailures(failed.length, items.length, spec.map.toleratedFailures)) {
    const first = failed[0]!.state.run;
    // The first failed item's failure, with the way down to where it began (./failure-origin.ts).
    const origin = originBelow(first.failure?.step ?? null, first.failure ?? { message: first.status });
    const message = locatedMessage(`map "${id}": ${failed.length} of ${items.length} items failed (tolerated: ${spec.map.toleratedFailures ?? 0}); item ${failed[0]!.index} failed`, origin);
    const kind = first.failure?.kind ?? 'tool_error';
    const error = { kind, message, items: failed.map((f) => f.index), origin: throughItem(failed[0]!.index, origin) };
    sendCharged(run, { type: 'step.failed', step: id, at: now, usage, error, retryable: false, retryAt: null });
    run.note({ ...run.where(id), at: now, event: 'failed', usage: await unjournaled(run, id, usage), error: { kind, message }, data: { failures, children: childIds } });
    return;
  }
  const output = states.map((s) => (s.kind === 'done' ? (s.run.output ?? null) : null));
  sendCharged(run, { type: 'step.done', step: id, at: now, output, usage });
  run.note({ ...run.where(id), at: now, event: 'completed', output, usage: await unjournaled(run, id, usage), data: { items: items.length, failures, children: childIds } });
}
