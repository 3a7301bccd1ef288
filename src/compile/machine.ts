/**
 * `compile()`: a validated definition → a plain XState v5 machine made with
 * `setup()`, its guards and actions named as in the definition. Pure: no I/O.
 *
 * Each step's state comes from its kind (src/kinds): a work step (`claude`,
 * `analyze`, `tool`) is a compound state `ready` → `running` → `retrying` |
 * `failed` | `budget_exhausted`; a `choice`, a `wait` and a `final` step are
 * simple states; a `final` step ends the run through `final.done` (→ `$done`)
 * once its output is evaluated, or `final.failed` (→ `$failed`) when that
 * fails. Every step state carries `meta.stepwise.kind`, which is how
 * the driver finds the active steps and their handlers. The engine performs
 * the effects (model and tool calls, expression evaluation) and sends the
 * results as events, so the machine decides and the application drives.
 *
 * The building blocks are exported (`stepState`, `runContext`, `runEvents`,
 * `endStates`, `machineSetup`) so a machine of another shape, e.g. with
 * parallel regions, can be made of the same step states and run by the same
 * driver.
 */
import type { Workflow } from '../definition/schema.js';
import { nextStep, startStep } from '../definition/graph.js';
import { sequenceEnd, stepOf } from '../definition/sequences.js';
import { kindOfStep } from '../kinds/index.js';
import { zeroUsage } from '../run/types.js';
import { CANCELLED_STATE, DONE_STATE, FAILED_STATE, type MachineInput, type RunContext } from './context.js';
import { machineSetup, ROOT, stateIdOf, target, type StateConfig, type Transitions } from './setup.js';

export { machineSetup, ROOT, stateIdOf, target } from './setup.js';
export type { StateConfig, Transitions } from './setup.js';

/** A compiled workflow: its context is {@link RunContext}, its events {@link RunEvent}. */
export type WorkflowMachine = ReturnType<typeof compile>;

/**
 * The state of step `id`, built by its kind. Its id is `wf:<id>`, so routes
 * (`#wf:<id>`) reach it wherever it is placed.
 */
export function stepState(workflow: Workflow, id: string): StateConfig {
  const step = stepOf(workflow, id);
  if (!step) throw new Error(`no step "${id}" in ${workflow.id}`);
  const next = nextStep(workflow, id) ?? sequenceEnd(workflow, id);
  return { ...kindOfStep(id, step).state(id, step, { workflow, next, stepState: (other) => stepState(workflow, other) }), id: stateIdOf(id) };
}

/** The context a run starts with. */
export function runContext(input: MachineInput): RunContext {
  return {
    input: input.input,
    steps: {},
    trail: [],
    visits: {},
    active: {},
    startedAt: input.at,
    usage: zeroUsage,
    budget: input.budget,
    failure: null,
    lastError: null,
    fingerprints: {},
    event: null,
  };
}

/** The events every run accepts wherever it is: cancel, the deadline, and a charge for the children of a step it left. */
export const runEvents: Transitions = {
  'run.cancel': { target: target(CANCELLED_STATE), actions: 'cancelRun' },
  'run.charge': { actions: 'chargeRun' },
  'run.deadline': {
    target: target(FAILED_STATE),
    actions: { type: 'failRun', params: { kind: 'deadline', message: 'the workflow deadline passed' } },
  },
};

/** The states a run ends in outside its steps: `$failed`, `$done` (once a final step's output is evaluated) and `$cancelled`. */
export function endStates(): Record<string, StateConfig> {
  return {
    [FAILED_STATE]: { id: stateIdOf(FAILED_STATE), meta: { stepwise: { kind: 'failed' } } },
    [DONE_STATE]: { id: stateIdOf(DONE_STATE), type: 'final', meta: { stepwise: { kind: 'done' } } },
    [CANCELLED_STATE]: { id: stateIdOf(CANCELLED_STATE), type: 'final', meta: { stepwise: { kind: 'cancelled' } } },
  };
}

/**
 * Compiles a workflow definition into an XState machine.
 *
 * @example
 * ```ts
 * const machine = compile(definition.workflow);
 * const actor = createActor(machine, { input: { input: {...}, budget, at: Date.now() } }).start();
 * ```
 */
export function compile(workflow: Workflow) {
  const states: Record<string, StateConfig> = {};
  for (const id of Object.keys(workflow.steps)) states[id] = stepState(workflow, id);
  Object.assign(states, endStates());

  return machineSetup.createMachine({
    id: ROOT,
    initial: startStep(workflow),
    context: ({ input }) => runContext(input),
    on: runEvents,
    states,
  });
}
