/**
 * The machine's types, guards and actions (`setup()`), and the types of the
 * state configs built with them. Every step kind builds its state(s) against
 * these, so a state that names an unknown guard or action does not compile.
 */
import { setup } from 'xstate';
import { actions } from './actions.js';
import type { MachineInput, RunContext } from './context.js';
import type { RunEvent } from './events.js';
import { guards } from './guards.js';

/** The id of a workflow machine's root state. */
export const ROOT = 'wf';

/**
 * The state id of step `id` (and of the `$failed` and `$cancelled` states):
 * `wf:<id>`, with no dot, so XState finds it by id wherever the state sits,
 * at the top level or inside a parallel region.
 */
export const stateIdOf = (id: string) => `${ROOT}:${id}`;

/** The target of a transition to step `id`. */
export const target = (id: string) => `#${stateIdOf(id)}`;

/** The machine's types, guards and actions; every state built from a definition is checked against them. */
export const machineSetup = setup({
  types: {} as { context: RunContext; events: RunEvent; input: MachineInput },
  guards,
  actions,
});

/** A state node of a workflow machine, typed with its context, events, guards and actions. */
export type StateConfig = Parameters<typeof machineSetup.createStateConfig>[0];
export type Transitions = NonNullable<StateConfig['on']>;
