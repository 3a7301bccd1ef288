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

/** The id of a workflow machine's root state; step states are `#wf.<step>`. */
export const ROOT = 'wf';

/** The target of a transition to step `id`, wherever its state sits (top level or in a parallel region). */
export const target = (id: string) => `#${ROOT}.${id}`;

/** The machine's types, guards and actions; every state built from a definition is checked against them. */
export const machineSetup = setup({
  types: {} as { context: RunContext; events: RunEvent; input: MachineInput },
  guards,
  actions,
});

/** A state node of a workflow machine, typed with its context, events, guards and actions. */
export type StateConfig = Parameters<typeof machineSetup.createStateConfig>[0];
export type Transitions = NonNullable<StateConfig['on']>;
