/**
 * The driver runs a set of active steps: a hand-written XState machine with
 * two parallel regions, each made of work steps built with the compiler's
 * exported building blocks (`stepState` carries `meta.stepwise`), is driven on
 * a real SQLite store. Region A runs to its end while region B's step is in
 * flight; then the drive is killed in the middle of that step (abandoned, its
 * promise never settles) and the run is restored from the store by a fresh
 * store and driver: no completed step runs again, the interrupted attempt runs
 * again with its idempotency key, and both regions finish.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActor } from 'xstate';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createSqliteStore,
  defineTool,
  drive,
  endStates,
  machineSetup,
  ManualClock,
  resolveModel,
  runContext,
  runEvents,
  stateIdOf,
  stepState,
  target,
  type DriverDeps,
  type RunRecord,
  type Store,
  type WorkflowMachine,
} from '../../src/index.js';
import { Workflow } from '../../src/definition/schema.js';
import type { Runtime } from '../../src/engine/runtime.js';
import { resolveBudget } from '../../src/policy/budget.js';
import { zeroUsage } from '../../src/run/types.js';

const workflow = Workflow.parse({
  id: 'two-regions',
  steps: {
    a1: { tool: 'work', with: { name: 'a1' }, next: 'a2' },
    a2: { tool: 'work', with: { name: 'a2' }, next: 'a_end' },
    b1: { tool: 'work', with: { name: 'b1' }, next: 'b2' },
    b2: { tool: 'work', with: { name: 'b2' }, next: 'b_end' },
    finish: { final: true, output: '{% { "a": $steps.a2.output.did, "b": $steps.b2.output.did } %}' },
  },
});

/** Two regions, A (a1 → a2) and B (b1 → b2), each ending in a plain final state; when both end, the run finishes. */
function parallelMachine(): WorkflowMachine {
  const machine = machineSetup.createMachine({
    id: 'wf',
    initial: 'both',
    context: ({ input }) => runContext(input),
    on: runEvents,
    states: {
      both: {
        type: 'parallel',
        states: {
          A: { initial: 'a1', states: { a1: stepState(workflow, 'a1'), a2: stepState(workflow, 'a2'), a_end: { id: stateIdOf('a_end'), type: 'final' } } },
          B: { initial: 'b1', states: { b1: stepState(workflow, 'b1'), b2: stepState(workflow, 'b2'), b_end: { id: stateIdOf('b_end'), type: 'final' } } },
        },
        onDone: target('finish'),
      },
      finish: stepState(workflow, 'finish'),
      ...endStates(),
    },
  });
  return machine as unknown as WorkflowMachine;
}

interface Effect {
  readonly name: string;
  readonly key: string;
  readonly process: number;
}

/** The side effects of the `work` tool, across "processes"; `blockB1` holds b1 forever in process 1. */
function world() {
  const effects: Effect[] = [];
  let process = 1;
  let b1Started!: () => void;
  const b1InFlight = new Promise<void>((resolve) => (b1Started = resolve));
  const tool = defineTool({
    name: 'work',
    description: 'Does one unit of work.',
    input: z.object({ name: z.string() }),
    run: async ({ name }, { idempotencyKey }) => {
      effects.push({ name, key: idempotencyKey, process });
      if (name === 'b1' && process === 1) {
        b1Started();
        await new Promise(() => {}); // the process dies before this step returns
      }
      return { did: name };
    },
  });
  return { effects, tool, b1InFlight, restart: () => (process += 1) };
}

const dir = mkdtempSync(join(tmpdir(), 'stepwise-parallel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a machine with two parallel regions', () => {
  it('runs both regions at once, survives a kill mid-step, and finishes both without re-running a completed step', async () => {
    const { effects, tool, b1InFlight, restart } = world();
    const machine = parallelMachine();
    const runtime: Runtime = { version: 'v1', definition: { workflow, source: null, toolModules: [] }, machine, tools: new Map([[tool.name, tool]]) };
    const clock = new ManualClock({ start: 1_000_000 });
    const path = join(dir, 'runs.db');
    const stores: Store[] = [];
    const depsOn = (store: Store): DriverDeps => ({ store, clock, model: resolveModel({ baseURL: 'http://127.0.0.1:9', apiKey: 'unused' }), onCommit: () => {} });

    // Process 1 creates the run and drives it.
    const first = createSqliteStore({ path });
    stores.push(first);
    const actor = createActor(machine, { input: { input: {}, budget: resolveBudget(undefined), at: clock.now() } }).start();
    const snapshot = actor.getPersistedSnapshot();
    actor.stop();
    expect(snapshot).toMatchObject({ value: { both: { A: { a1: 'ready' }, B: { b1: 'ready' } } } });
    const record: RunRecord = {
      id: 'par-1',
      workflow: workflow.id,
      version: 'v1',
      definition: runtime.definition,
      status: 'running',
      input: {},
      output: null,
      failure: null,
      usage: zeroUsage,
      snapshot,
      options: {},
      wakeAt: null,
      lease: null,
      createdAt: clock.now(),
      updatedAt: clock.now(),
      revision: 0,
    };
    const { run } = await first.create(record, [{ step: null, visit: 0, attempt: 0, event: 'created', at: clock.now() }]);
    void drive(depsOn(first), runtime, run, { mode: 'rest', sleepTimers: true }); // abandoned: never settles

    // Region A runs to its end while b1 is in flight, and that is committed.
    await b1InFlight;
    await until(async () => (await first.journal('par-1')).some((e) => e.step === 'a2' && e.event === 'completed'), 'a2 to complete');
    const stored = (await first.get('par-1'))!;
    expect(stored.status).toBe('running');
    expect((stored.snapshot as { value: unknown }).value).toEqual({ both: { A: 'a_end', B: { b1: 'running' } } });
    const journal1 = await first.journal('par-1');
    expect(journal1.filter((e) => e.event === 'completed').map((e) => e.step)).toEqual(['a1', 'a2']);
    expect(journal1.filter((e) => e.event === 'started').map((e) => e.step).sort()).toEqual(['a1', 'a2', 'b1']);
    const revisions = journal1.length;
    expect(revisions).toBeGreaterThan(0);

    // The process dies mid-b1. Process 2 restores the run from the store and drives it to the end.
    restart();
    const second = createSqliteStore({ path });
    stores.push(second);
    const restored = (await second.get('par-1'))!;
    const done = await drive(depsOn(second), runtime, restored, { mode: 'rest', sleepTimers: true });
    expect(done.status).toBe('done');
    expect(done.output).toEqual({ a: 'a2', b: 'b2' });

    // No completed step ran again; the interrupted attempt ran again with the same idempotency key.
    const count = (name: string) => effects.filter((e) => e.name === name);
    expect(count('a1')).toHaveLength(1);
    expect(count('a2')).toHaveLength(1);
    expect(count('b2')).toHaveLength(1);
    expect(count('b1').map((e) => e.process)).toEqual([1, 2]);
    expect(new Set(count('b1').map((e) => e.key)).size).toBe(1);
    const journal = await second.journal('par-1');
    expect(journal.filter((e) => e.event === 'completed').map((e) => e.step).sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(journal.find((e) => e.step === 'b1' && e.event === 'started' && (e.data as { rerun?: boolean } | null)?.rerun)).toBeDefined();
    expect(journal.filter((e) => e.event === 'finished').map((e) => e.step)).toEqual(['finish']);

    // Every step's own state: each attempt counted per step, not for the run.
    const context = (done.snapshot as { context: { active: Record<string, { attempt: number }> } }).context;
    expect(Object.fromEntries(['a1', 'a2', 'b1', 'b2'].map((s) => [s, context.active[s]!.attempt]))).toEqual({ a1: 1, a2: 1, b1: 1, b2: 1 });
    await second.close();
  });
});
