/**
 * `update()`: XState's `assign` over the run's context, with a cheaper copy of
 * the snapshot. XState's own assign makes the next snapshot with
 * `createMachineSnapshot`, which works out the state value and the tags again
 * from the active nodes (a set, a map and an array per assign) although an
 * assign changes neither; a work step makes three assigns. Here the next
 * snapshot is the current one with the new context, field for field: the same
 * snapshot XState would make, for context updates that spawn no actor (a
 * Stepwise machine spawns none, and an assigner here is given no `spawn`).
 */
import { assign, type AnyMachineSnapshot, type Assigner, type ParameterizedObject } from 'xstate';
import type { RunContext } from './context.js';
import type { RunEvent } from './events.js';

/** The assigner as XState keeps it on the action (`assignment`), called with its args and the action's params. */
type Assignment = (args: { context: RunContext; event: RunEvent; self: unknown; system: unknown }, params: unknown) => Partial<RunContext>;

/** What XState's built-in actions return from `resolve`: the next snapshot, the params to execute with, further actions. */
type Resolved = [AnyMachineSnapshot, undefined, undefined];

/**
 * The next snapshot of an assign: `snapshot` with the context the assigner makes.
 * @example resolveUpdate(scope, snapshot, { event, self, system }, { step: 's1' }, action)
 */
function resolveUpdate(
  _scope: unknown,
  snapshot: AnyMachineSnapshot,
  args: { event: RunEvent; self: unknown; system: unknown },
  params: unknown,
  action: { assignment: Assignment },
): Resolved {
  const context = snapshot.context as RunContext;
  const change = action.assignment({ context, event: args.event, self: args.self, system: args.system }, params);
  return [{ ...snapshot, context: { ...context, ...change } }, undefined, undefined];
}

/**
 * An `assign` over the run's context, typed with the machine's events and the
 * action's params; the assigner must return a partial context (never a map of
 * property assigners) and spawn nothing.
 *
 * @example
 * const clearFailure = update(() => ({ failure: null }));
 */
export function update<P extends ParameterizedObject['params'] | undefined = undefined>(assigner: Assigner<RunContext, RunEvent, P, RunEvent, never>) {
  const action = assign<RunContext, RunEvent, P, RunEvent, never>(assigner);
  (action as unknown as { resolve: typeof resolveUpdate }).resolve = resolveUpdate;
  return action;
}
