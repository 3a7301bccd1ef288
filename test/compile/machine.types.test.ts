/** Types of a compiled machine: its actor accepts the events of `RunEvent`, and only those. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createActor, type Actor } from 'xstate';
import type { RunContext } from '../../src/compile/context.js';
import type { RunEvent } from '../../src/compile/events.js';
import { compile, type WorkflowMachine } from '../../src/compile/machine.js';
import { Workflow } from '../../src/definition/schema.js';
import { zeroUsage } from '../../src/run/types.js';

const workflow = Workflow.parse({
  id: 'typed',
  steps: {
    fetch: { tool: 'lookup', next: 'approve' },
    approve: { wait: { on: { APPROVE: 'done' } } },
    done: { final: true },
  },
});

function start() {
  return createActor(compile(workflow), { input: { input: {}, budget: { tokens: 1000, usd: null, stopAt: 0.9 }, at: 0 } }).start();
}

describe('compiled machine types', () => {
  it('has the run context and exactly the RunEvent union', () => {
    expectTypeOf<Parameters<Actor<WorkflowMachine>['send']>[0]>().toEqualTypeOf<RunEvent>();
    expectTypeOf(start().getSnapshot().context).toEqualTypeOf<RunContext>();
  });

  it('accepts the events the engine sends and a wait event with its data', () => {
    const actor = start();
    actor.send({ type: 'step.run', at: 1, projectedTokens: 10, projectedUsd: 0 });
    actor.send({ type: 'step.done', at: 2, output: { id: 1 }, usage: zeroUsage });
    actor.send({ type: 'APPROVE', at: 3, data: { by: 'cfo' } });
    expect(actor.getSnapshot().value).toBe('done');
    expect(actor.getSnapshot().context.event).toEqual({ type: 'APPROVE', data: { by: 'cfo' } });
  });

  it('rejects an event type the machine does not know, and leaves the run where it was', () => {
    const actor = start();
    // @ts-expect-error "step.finish" is not an event of the machine
    actor.send({ type: 'step.finish', at: 1 });
    // @ts-expect-error a lower-case name is neither an engine event nor a wait event (UPPER_CASE)
    actor.send({ type: 'approve', at: 1 });
    expect(actor.getSnapshot().value).toEqual({ fetch: 'ready' });
  });

  it('rejects an event without the fields its type requires', () => {
    const actor = start();
    actor.send({ type: 'step.run', at: 1, projectedTokens: 10, projectedUsd: 0 });
    // @ts-expect-error a step.done needs `at`
    actor.send({ type: 'step.done', output: null, usage: zeroUsage });
    // @ts-expect-error a step.done needs its usage
    actor.send({ type: 'step.done', at: 2, output: null });
    // @ts-expect-error a step.failed needs its error, retryable flag and retryAt
    actor.send({ type: 'step.failed', at: 2, usage: zeroUsage });
    // @ts-expect-error a choice.take needs the index of its branch
    actor.send({ type: 'choice.take', at: 2 });
    // @ts-expect-error a run.resume needs the budget it goes on with
    actor.send({ type: 'run.resume', at: 2 });
    // @ts-expect-error `at` is a number (epoch ms), not a Date
    actor.send({ type: 'run.cancel', at: new Date(), reason: 'x' });
  });
});
