/**
 * The light run actor with `update()` against a real XState actor whose actions are XState's own `assign`, on
 * compiled machines with choices, waits with timeouts, `maxVisits` loops (`always` transitions) and parallel
 * branches: seeded random events (for this step, other steps, no step), snapshots stored as JSON and restored
 * midway; after every event the persisted snapshot, the state value, the tags, the snapshot's keys and its active
 * nodes must be the same. This is the guard the pinned xstate version relies on (README, Dependencies).
 */
import { describe, expect, it } from 'vitest';
import { assign, createActor, type AnyMachineSnapshot } from 'xstate';
import { actions } from '../../src/compile/actions.js';
import type { RunEvent } from '../../src/compile/events.js';
import { compile } from '../../src/compile/machine.js';
import { Workflow } from '../../src/definition/schema.js';
import { invoice } from '../compile/fixtures/invoice-workflow.js';
import { persistedSnapshot } from '../../src/engine/persisted.js';
import { runActor } from '../../src/engine/run-actor.js';
import { resolveBudget } from '../../src/policy/budget.js';

const workflows = [
  invoice,
  Workflow.parse({ id: 'loop', limits: { repeatedInputs: 2 }, steps: { ask: { claude: { tool: 't', prompt: 'p' }, next: 'again', maxVisits: 2 }, again: { choice: [{ next: 'ask' }] } } }),
  Workflow.parse({
    id: 'par',
    retry: { maxAttempts: 2 },
    steps: {
      checks: { parallel: { branches: { slow: { steps: { s1: { tool: 'x' }, s2: { tool: 'x' } } }, broken: { steps: { w: { tool: 'x' }, f1: { tool: 'x' } } } } }, next: 'done', onError: 'manual' },
      done: { final: true, output: 'ok' },
      manual: { final: true },
    },
  }),
];

/** The machine's actions as XState's own `assign` of the same assigners: the reference. */
const reference = Object.fromEntries(Object.entries(actions).map(([name, action]) => [name, assign((action as unknown as { assignment: never }).assignment)]));

const zero = { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0 };

function random(seed: number) {
  let state = seed;
  return (n: number) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
}

function anEvent(pick: (n: number) => number, steps: readonly string[], at: number): RunEvent {
  const step = pick(4) === 0 ? undefined : steps[pick(steps.length)];
  const branch = ['slow', 'broken'][pick(2)];
  const all = [
    { type: 'step.run', step, at, projectedTokens: pick(3) * 400, projectedUsd: 0 },
    { type: 'step.done', step, at, output: { total: pick(2) ? 20000 : 5, status: pick(3) ? 'ok' : 'blocked' }, usage: { inputTokens: 300, outputTokens: 10, totalTokens: 310, usd: 0 }, fingerprint: `fp${pick(2)}` },
    { type: 'step.failed', step, at, usage: zero, error: { kind: ['tool_error', 'budget', 'timeout'][pick(3)], message: 'no' }, retryable: pick(2) === 1, retryAt: at + 1, fingerprint: `fp${pick(2)}` },
    { type: 'step.retry', step, at },
    { type: 'choice.take', step, at, index: pick(3) },
    { type: 'choice.none', step, at },
    { type: 'wait.timeout', step, at },
    { type: ['APPROVE', 'REJECT'][pick(2)], step, at, data: { by: 'x' } },
    { type: 'run.deadline', at },
    { type: 'run.resume', at, budget: resolveBudget() },
    { type: 'final.done', step, at },
    { type: 'final.failed', step, at, message: 'm' },
    { type: 'run.cancel', at, reason: 'r' },
    { type: 'parallel.start', step, at },
    { type: 'parallel.fail', step, at, branch, error: { kind: 'tool_error', message: 'x' } },
    { type: 'parallel.collect', step, at, branch },
    { type: 'child.rest', step, at, waiting: pick(2) === 1, wakeAt: null },
    { type: 'child.wake', step, at },
  ];
  return all[pick(all.length)] as unknown as RunEvent;
}

const view = (s: AnyMachineSnapshot) =>
  JSON.stringify({
    persisted: persistedSnapshot({ getSnapshot: () => s }),
    tags: [...s.tags],
    value: s.value,
    keys: Object.keys(s),
    nodes: (s as unknown as { _nodes: Array<{ id: string }> })._nodes.map((n) => n.id).sort(),
  });

describe('runActor and update() against XState', () => {
  it.each(workflows.map((w) => [w.id, w] as const))('%s: the same snapshots event by event, through restores from JSON', (_id, workflow) => {
    const machine = compile(workflow);
    const referenceMachine = machine.provide({ actions: reference as never });
    const steps = [...Object.keys(workflow.steps), 's1', 's2', 'w', 'f1'];
    const pick = random(12345);
    let compared = 0;
    let ended = 0;
    for (let trial = 0; trial < 150; trial++) {
      const input = { input: {}, budget: resolveBudget(workflow.budget), at: 1 };
      const xstate = createActor(referenceMachine, { input }).start();
      let light = runActor(machine, { input });
      for (let i = 0; i < 40; i++) {
        const event = anEvent(pick, steps, 2 + i);
        light.send(event);
        xstate.send(event);
        const expected = xstate.getSnapshot();
        expect(view(light.getSnapshot() as AnyMachineSnapshot), `${workflow.id} trial ${trial} event ${i} (${event.type})`).toBe(view(expected));
        compared++;
        if (pick(5) === 0) light = runActor(machine, { snapshot: JSON.parse(JSON.stringify(persistedSnapshot(light))) });
        if (expected.status !== 'active') {
          ended++;
          break;
        }
      }
    }
    // The events reached far enough to matter: many comparisons, and runs that ended.
    expect(compared).toBeGreaterThan(1000);
    expect(ended).toBeGreaterThan(10);
  });
});
