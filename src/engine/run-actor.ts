/**
 * A run's machine driven without an XState `Actor`. The driver only sends
 * events to a run's machine and reads its snapshot; the machines `compile()`
 * makes spawn no actors, delay no events and have no actions but `assign`
 * (pure context updates), so nothing an `Actor` adds (a system, a mailbox,
 * observers, deferred effects) is ever used, yet making one costs as much as
 * the machine's first transition: once per run, which is once per item of a
 * `map`. Here the machine's own `getInitialSnapshot`, `restoreSnapshot` and
 * `transition` (what an `Actor` calls) advance the snapshot, with one inert
 * actor scope shared by all runs. An inspector needs a real actor: the driver
 * makes one then.
 */
import type { ActorScope, AnyActorLogic, AnyMachineSnapshot, Snapshot } from 'xstate';
import type { RunEvent } from '../compile/events.js';
import type { MachineInput } from '../compile/context.js';
import type { WorkflowMachine } from '../compile/machine.js';
import { restoreMarked } from './persisted.js';

/** What the driver asks of a run's actor: an XState `Actor` has it, and so has {@link runActor}'s. */
export interface RunActor {
  getSnapshot(): ReturnType<WorkflowMachine['getInitialSnapshot']>;
  send(event: RunEvent): void;
  start(): unknown;
  stop(): unknown;
}

/**
 * The actor scope of every run driven here. Its `self` and `system` are read by XState only to hand them to
 * actions and guards (which do not use them) and to report inspection events (dropped: no inspector).
 * An action that is not a pure update (none of ours) is executed at once, as a started actor does.
 */
const inert = {
  self: {},
  id: 'stepwise-run',
  sessionId: 'stepwise-run',
  logger: () => {},
  defer: (fn: () => void) => fn(),
  system: { _sendInspectionEvent: () => {} },
  stopChild: () => {},
  emit: () => {},
  actionExecutor: (action: { exec?: (info: unknown, params: unknown) => void; info: unknown; params: unknown }) => action.exec?.(action.info, action.params),
} as unknown as ActorScope<AnyMachineSnapshot, RunEvent, never>;

/**
 * A run's actor of `machine`, at its start (`input`) or at a stored snapshot (`snapshot`, restored as
 * {@link restoreActor} restores one). Events sent once the machine is done (or stuck in an error) are dropped, as a
 * stopped `Actor` drops them; an error thrown while taking a transition is thrown to the sender (an `Actor` would
 * report it as unhandled, which ends the process).
 *
 * @example
 * ```ts
 * const actor = runActor(runtime.machine, { input: { input: { item: 'a' }, budget, at: clock.now() } });
 * actor.send({ type: 'step.run', step: 'price', at: clock.now(), projectedTokens: 0, projectedUsd: 0 });
 * actor.getSnapshot().value; // { price: 'running' }
 * ```
 */
export function runActor(machine: WorkflowMachine, from: { readonly input: MachineInput } | { readonly snapshot: unknown }): RunActor {
  const logic = machine as unknown as AnyActorLogic;
  let snapshot: AnyMachineSnapshot = 'input' in from ? logic.getInitialSnapshot(inert, from.input) : restoreMarked(from.snapshot, (s) => logic.restoreSnapshot!(s as Snapshot<unknown>, inert));
  if (snapshot.status === 'error') {
    // A stored error is plain JSON (an Error does not survive the round trip): say what it is.
    const error = snapshot.error;
    throw error instanceof Error ? error : new Error(`the run's stored snapshot is in error: ${JSON.stringify(error) ?? 'no detail'}`);
  }
  return {
    getSnapshot: () => snapshot as ReturnType<RunActor['getSnapshot']>,
    send(event) {
      if (snapshot.status !== 'active') return;
      snapshot = logic.transition(snapshot, event, inert);
    },
    start: () => undefined,
    stop: () => undefined,
  };
}
