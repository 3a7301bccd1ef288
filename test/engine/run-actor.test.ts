/** The driver's light actor of a run's machine: the very snapshots an XState actor goes through, without one. */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { compile } from '../../src/compile/machine.js';
import type { RunEvent } from '../../src/compile/events.js';
import { Workflow } from '../../src/definition/schema.js';
import { persistedSnapshot, restoreActor } from '../../src/engine/persisted.js';
import { runActor } from '../../src/engine/run-actor.js';
import { resolveBudget } from '../../src/policy/budget.js';

const workflow = Workflow.parse({
  id: 'light',
  steps: {
    a: { tool: 'x', next: 'b', retry: { maxAttempts: 2 } },
    b: { tool: 'x', next: 'end' },
    end: { final: true },
  },
});
const zero = { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0 };
const input = { input: { doc: 'text' }, budget: resolveBudget(), at: 1 };
const events: RunEvent[] = [
  { type: 'step.run', step: 'a', at: 2, projectedTokens: 0, projectedUsd: 0 },
  { type: 'step.failed', step: 'a', at: 3, usage: zero, error: { kind: 'tool_error', message: 'no' }, retryable: true, retryAt: 4 },
  { type: 'step.retry', step: 'a', at: 4 },
  { type: 'step.run', step: 'a', at: 5, projectedTokens: 0, projectedUsd: 0 },
  { type: 'step.done', step: 'a', at: 6, output: { n: 1 }, usage: zero },
  { type: 'step.run', step: 'b', at: 7, projectedTokens: 0, projectedUsd: 0 },
  { type: 'step.done', step: 'b', at: 8, output: { n: 2 }, usage: zero },
  { type: 'final.done', step: 'end', at: 9 },
];
const text = (actor: { getSnapshot(): unknown }) => JSON.stringify(persistedSnapshot(actor));

describe('runActor', () => {
  it('goes through the snapshots an XState actor of the machine goes through, from the start to done', () => {
    const machine = compile(workflow);
    const xstate = createActor(machine, { input }).start();
    const light = runActor(machine, { input });
    expect(text(light)).toBe(text(xstate));
    for (const event of events) {
      xstate.send(event);
      light.send(event);
      expect(text(light)).toBe(text(xstate));
      expect(light.getSnapshot().value).toEqual(xstate.getSnapshot().value);
    }
    expect(light.getSnapshot().status).toBe('done');
  });

  it('restores a stored snapshot as restoreActor does, and goes on from it alike', () => {
    const machine = compile(workflow);
    const start = runActor(machine, { input });
    for (const event of events.slice(0, 3)) start.send(event);
    const stored = JSON.parse(text(start));
    const xstate = restoreActor(machine, JSON.parse(JSON.stringify(stored))).start();
    const light = runActor(machine, { snapshot: JSON.parse(JSON.stringify(stored)) });
    expect(text(light)).toBe(text(xstate));
    for (const event of events.slice(3)) {
      xstate.send(event);
      light.send(event);
      expect(text(light)).toBe(text(xstate));
    }
  });

  it('keeps context objects that look like actor references when restoring', () => {
    const lookalike = { sessionId: 's', send: 'x', ref: 'r', xstate$$type: 1, id: 'child' };
    const stored = JSON.parse(text(runActor(compile(workflow), { input: { ...input, input: { lookalike } } })));
    const light = runActor(compile(workflow), { snapshot: stored });
    expect(light.getSnapshot().context.input).toEqual({ lookalike });
  });

  it('drops events once the machine is done, as a stopped actor does', () => {
    const light = runActor(compile(workflow), { input });
    for (const event of events) light.send(event);
    const done = text(light);
    light.send({ type: 'run.cancel', at: 10, reason: 'late' });
    expect(text(light)).toBe(done);
    expect(light.getSnapshot().value).toBe('$done');
  });

  it('throws a snapshot it cannot restore to the caller instead of reporting it later', () => {
    expect(() => runActor(compile(workflow), { snapshot: { status: 'active', value: 'nowhere', context: {}, children: {}, historyValue: {} } })).toThrow();
  });

  it('a stored snapshot in error (a thrown transition of an inspected actor, committed) is refused with an Error that says so', () => {
    const stored = { ...JSON.parse(text(runActor(compile(workflow), { input }))), status: 'error', error: {} };
    expect(() => runActor(compile(workflow), { snapshot: stored })).toThrow(/stored snapshot is in error/);
  });
});
