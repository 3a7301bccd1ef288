/**
 * Two reviewed `claude` steps in parallel regions (a hand-written machine of
 * the compiler's step states, as test/kinds/parallel.test.ts builds one),
 * driven by the real driver on a real SQLite file with the emulator as the
 * model: both wait at once, the inbox has an entry for each, and an APPROVE
 * naming one step moves that branch only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActor } from 'xstate';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore, defineTool, drive, endStates, machineSetup, ManualClock, resolveModel, runContext, runEvents, stateIdOf, stepState, target, type RunRecord, type WorkflowMachine } from '../../src/index.js';
import { Workflow } from '../../src/definition/schema.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { Runtime } from '../../src/engine/runtime.js';
import { resolveBudget } from '../../src/policy/budget.js';
import { inboxEntries } from '../../src/query/inbox.js';
import { zeroUsage } from '../../src/run/types.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

const workflow = Workflow.parse({
  id: 'two-reviews',
  steps: {
    a: { claude: { tool: 'pay', prompt: 'Pay A.' }, review: true, next: 'a_end' },
    b: { claude: { tool: 'pay', prompt: 'Pay B.' }, review: true, next: 'b_end' },
    finish: { final: true },
  },
});

function machine(): WorkflowMachine {
  return machineSetup.createMachine({
    id: 'wf',
    initial: 'both',
    context: ({ input }) => runContext(input),
    on: runEvents,
    states: {
      both: {
        type: 'parallel',
        states: {
          A: { initial: 'a', states: { a: stepState(workflow, 'a'), a_end: { id: stateIdOf('a_end'), type: 'final' } } },
          B: { initial: 'b', states: { b: stepState(workflow, 'b'), b_end: { id: stateIdOf('b_end'), type: 'final' } } },
        },
        onDone: target('finish'),
      },
      finish: stepState(workflow, 'finish'),
      ...endStates(),
    },
  }) as unknown as WorkflowMachine;
}

const paid: string[] = [];
const pay = defineTool({ name: 'pay', description: 'Pay someone', input: z.object({ to: z.string(), amount: z.number() }), run: (_input, { stepId }) => (paid.push(stepId), { ok: true }) });

let emu: Emulator;
const dir = mkdtempSync(join(tmpdir(), 'stepwise-review-par-'));
beforeAll(async () => {
  emu = await startEmulator({ seed: 5 });
});
afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('reviews in parallel branches', () => {
  it('wait side by side, each its own inbox entry, each approvable alone', async () => {
    const store = createSqliteStore({ path: join(dir, 'runs.db') });
    try {
      const compiled = machine();
      const runtime: Runtime = { version: 'v1', definition: { workflow, source: null, toolModules: [] }, machine: compiled, tools: new Map([[pay.name, pay]]) };
      const clock = new ManualClock({ autoAdvance: true });
      const deps = { store, clock, model: resolveModel({ baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS }), onCommit: () => {} };
      const actor = createActor(compiled, { input: { input: {}, budget: resolveBudget(undefined), at: clock.now() } }).start();
      const snapshot = actor.getPersistedSnapshot();
      actor.stop();
      const record: RunRecord = {
        id: 'two-reviews-1', workflow: workflow.id, version: 'v1', definition: runtime.definition, status: 'running', input: {}, output: null, failure: null,
        usage: zeroUsage, snapshot, options: {}, wakeAt: null, lease: null, createdAt: clock.now(), updatedAt: clock.now(), revision: 0,
      };
      await store.create(record, []);

      // Both branches propose at once; the second settling while the first is committed once hung the drive (a race over no effects).
      const waiting = await drive(deps, runtime, record, { mode: 'rest', sleepTimers: true });
      expect(waiting.status).toBe('waiting');
      expect(waiting.snapshot).toMatchObject({ value: { both: { A: { a: 'reviewing' }, B: { b: 'reviewing' } } } });
      expect(inboxEntries(waiting).map((e) => [e.step, e.kind, e.events])).toEqual([
        ['a', 'review', ['APPROVE', 'REJECT']],
        ['b', 'review', ['APPROVE', 'REJECT']],
      ]);
      expect(paid).toEqual([]);

      const at = clock.now();
      const approvedB = await drive(deps, runtime, waiting, { mode: 'rest', sleepTimers: true, event: { event: { type: 'APPROVE', step: 'b', at }, journal: [] } });
      expect(paid).toEqual(['b']);
      expect(approvedB.snapshot).toMatchObject({ value: { both: { A: { a: 'reviewing' }, B: 'b_end' } } });
      expect(inboxEntries(approvedB).map((e) => e.step)).toEqual(['a']);

      const done = await drive(deps, runtime, approvedB, { mode: 'rest', sleepTimers: true, event: { event: { type: 'APPROVE', step: 'a', at: clock.now() }, journal: [] } });
      expect(paid).toEqual(['b', 'a']);
      expect(done.status).toBe('done');
    } finally {
      await store.close();
    }
  });
});
