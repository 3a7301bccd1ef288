/**
 * `update()`, the machine's assign with a cheaper snapshot copy: the same
 * machine built with it and with XState's own `assign` makes snapshots that
 * agree field for field (value, tags, status, context, children, history)
 * after every transition, including those whose entry actions assign too.
 */
import { describe, expect, it } from 'vitest';
import { assign, createActor, setup, type AnyMachineSnapshot } from 'xstate';
import type { RunContext } from '../../src/compile/context.js';
import type { RunEvent } from '../../src/compile/events.js';
import { update } from '../../src/compile/update.js';

type Bump = (args: { context: RunContext; event: RunEvent }) => Partial<RunContext>;

const visit: Bump = ({ context }) => ({ visits: { ...context.visits, a: (context.visits['a'] ?? 0) + 1 } });
const fail: Bump = ({ event }) => ({ failure: { kind: 'tool_error', step: 'b', message: event.type } });

/** A machine with a compound and a tagged state, assigning on transitions and on entry, with `make` as its assign. */
function machineWith(make: (bump: Bump) => unknown) {
  return setup({
    types: {} as { context: RunContext; events: RunEvent },
    actions: { visit: make(visit) as never, fail: make(fail) as never },
  }).createMachine({
    id: 'm',
    initial: 'a',
    context: { input: null, steps: {}, trail: [], visits: {}, active: {}, startedAt: 0, usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0 }, budget: { tokens: 1000, usd: null, stopAt: 1 }, failure: null, lastError: null, fingerprints: {}, event: null },
    states: {
      a: {
        entry: 'visit',
        initial: 'ready',
        states: { ready: { on: { 'step.run': { target: 'running', actions: 'visit' } } }, running: { tags: ['busy'], on: { 'step.retry': 'ready' } } },
        on: { 'step.failed': { target: 'b', actions: ['fail', 'visit'] } },
      },
      b: { entry: 'visit', on: { 'run.resume': 'a' } },
    },
  });
}

const fields = (snapshot: AnyMachineSnapshot) => ({
  keys: Object.keys(snapshot),
  value: snapshot.value,
  tags: [...snapshot.tags],
  status: snapshot.status,
  context: snapshot.context,
  children: snapshot.children,
  historyValue: snapshot.historyValue,
  persisted: (snapshot.machine as { getPersistedSnapshot(s: AnyMachineSnapshot): unknown }).getPersistedSnapshot(snapshot),
});

describe('update', () => {
  it('makes the snapshots XState’s assign makes, through transitions and entry actions', () => {
    const ours = createActor(machineWith((bump) => update(bump))).start();
    const theirs = createActor(machineWith((bump) => assign(bump as never))).start();
    const events: RunEvent[] = [
      { type: 'step.run', at: 1, projectedTokens: 0, projectedUsd: 0 },
      { type: 'step.retry', at: 2 },
      { type: 'step.run', at: 3, projectedTokens: 0, projectedUsd: 0 },
      { type: 'step.failed', at: 4, usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0 }, error: { kind: 'tool_error', message: 'x' }, retryable: false, retryAt: null },
      { type: 'run.resume', at: 5, budget: { tokens: 1000, usd: null, stopAt: 1 } },
    ];
    expect(fields(ours.getSnapshot())).toEqual(fields(theirs.getSnapshot()));
    for (const event of events) {
      ours.send(event);
      theirs.send(event);
      expect(fields(ours.getSnapshot())).toEqual(fields(theirs.getSnapshot()));
    }
    expect(ours.getSnapshot().context.visits).toEqual({ a: 6 });
    expect(ours.getSnapshot().context.failure?.message).toBe('step.failed');
  });

  it('leaves the snapshot it started from as it was', () => {
    const actor = createActor(machineWith((bump) => update(bump))).start();
    const before = actor.getSnapshot();
    const visits = before.context.visits;
    actor.send({ type: 'step.run', at: 1, projectedTokens: 0, projectedUsd: 0 });
    expect(before.context.visits).toBe(visits);
    expect(before.context.visits).toEqual({ a: 1 });
    expect(actor.getSnapshot().context.visits).toEqual({ a: 2 });
    expect(before.value).toEqual({ a: 'ready' });
  });
});
