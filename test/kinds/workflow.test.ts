/**
 * `workflow` steps through the real engine on a real SQLite file: the child
 * is a run of its own linked both ways, its output is the step's output, its
 * failure takes `onError`, a wait inside it makes the parent wait (events sent
 * to the parent or to the child reach it), cancel and resume propagate, and
 * the parent is charged what the child spends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';
import { doublerDefinition } from './fixtures/doubler.js';

const calls: string[] = [];
const double = defineTool({
  name: 'double',
  description: 'Doubles a number',
  input: z.object({ n: z.number() }),
  run: ({ n }, ctx) => {
    calls.push(ctx.idempotencyKey);
    return { n: n * 2 };
  },
});
const fail = defineTool({
  name: 'fail',
  description: 'Always fails',
  input: z.object({}),
  run: () => {
    throw new Error('nope');
  },
});
const summarize = defineTool({
  name: 'summarize',
  description: 'Records a summary of the text',
  input: z.object({ summary: z.string() }),
  run: (input) => input,
});
const tools = [double, fail, summarize];

const childDef = doublerDefinition(tools);
const approvalDef = loadDefinitionFromObject(
  {
    id: 'approval',
    steps: {
      ask: { wait: { on: { APPROVE: 'ok', REJECT: 'no' } } },
      ok: { final: true, output: { approved: true, by: '{% $event.data.by %}' } },
      no: { final: true, output: { approved: false } },
    },
  },
  [],
  'approval',
);
/** Two model calls with a wait between that times out: the parent's step drives the child again after a resume lifted its slice. */
const twiceDef = loadDefinitionFromObject(
  {
    id: 'twice',
    steps: {
      first: { claude: { tool: 'summarize', prompt: 'Summarize the text.', context: { text: '{% $input.text %}' } } },
      w: { wait: { on: { GO: 'second' }, timeout: '1m', onTimeout: 'second' } },
      second: { claude: { tool: 'summarize', prompt: 'Summarize it again.', context: { text: '{% $input.text %}' } } },
      done: { final: true, output: '{% $steps.second.output %}' },
    },
  },
  tools,
  'twice',
);
const failingDef = loadDefinitionFromObject({ id: 'failing', steps: { boom: { tool: 'fail', retry: { maxAttempts: 1 } }, done: { final: true } } }, tools, 'failing');
const modelDef = loadDefinitionFromObject(
  {
    id: 'summarizer',
    steps: {
      sum: { claude: { tool: 'summarize', prompt: 'Summarize the text.', context: { text: '{% $input.text %}' } } },
      done: { final: true, output: '{% $steps.sum.output %}' },
    },
  },
  tools,
  'summarizer',
);

let dir: string;
let emu: Emulator | undefined;
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await emu?.close();
  emu = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function engine(): Promise<Engine> {
  dir ??= mkdtempSync(join(tmpdir(), 'stepwise-child-'));
  emu ??= await startEmulator({ seed: 1 });
  const store = createSqliteStore({ path: join(dir, 'runs.db') });
  stores.push(store);
  return createEngine({
    store,
    tools,
    workflows: [childDef, approvalDef, failingDef, modelDef, twiceDef],
    model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS },
    clock: new ManualClock({ autoAdvance: true }),
  });
}

const parent = (steps: Record<string, unknown>, extra: Record<string, unknown> = {}) => loadDefinitionFromObject({ id: 'parent', ...extra, steps }, tools, 'parent');

describe('workflow steps', () => {
  it('start the child as a run of its own, linked both ways; the step output is the child output', async () => {
    dir = mkdtempSync(join(tmpdir(), 'stepwise-child-'));
    const e = await engine();
    const def = parent({
      sub: { workflow: { id: 'doubler', input: { n: '{% $input.n + 1 %}' } }, next: 'done' },
      done: { final: true, output: '{% $steps.sub.output.n %}' },
    });
    const run = await e.start(def, { input: { n: 20 } });
    expect(run.status).toBe('done');
    expect(run.output).toBe(42);
    const children = await e.store.list({ parentId: run.runId });
    expect(children).toHaveLength(1);
    const child = children[0]!;
    expect(child.status).toBe('done');
    expect(child.workflow).toBe('doubler');
    expect(child.input).toEqual({ n: 21 });
    expect(child.options.parent).toEqual({ runId: run.runId, step: 'sub', visit: 1, depth: 1, maxDepth: 8 });
    // The parent's journal names the child; the child has its own journal.
    const started = (await e.journal(run.runId)).find((j) => j.step === 'sub' && j.event === 'started');
    expect(started?.data).toMatchObject({ child: child.id, workflow: 'doubler' });
    expect((await e.journal(child.id)).map((j) => j.event)).toContain('finished');
    // Top-level listing hides the child.
    expect((await e.store.list({ parentId: null })).map((r) => r.id)).toEqual([run.runId]);
  });

  it('a failing child fails the step: onError is taken, or the parent fails', async () => {
    dir = mkdtempSync(join(tmpdir(), 'stepwise-child-'));
    const e = await engine();
    const routed = await e.start(
      parent({ sub: { workflow: { id: 'failing' }, onError: 'recover', next: 'done' }, recover: { final: true, output: 'recovered' }, done: { final: true } }),
    );
    expect(routed.status).toBe('done');
    expect(routed.output).toBe('recovered');
    const failed = await e.start(parent({ sub: { workflow: { id: 'failing' }, next: 'done' }, done: { final: true } }));
    expect(failed.status).toBe('failed');
    expect(failed.failure?.step).toBe('sub');
    expect(failed.failure?.message).toMatch(/child run .* \(failing\) failed/);
    // An invalid child input fails the step before any child exists.
    const invalid = await e.start(parent({ sub: { workflow: { id: 'doubler', input: { n: 'x' } } }, done: { final: true } }));
    expect(invalid.status).toBe('failed');
    expect(invalid.failure?.kind).toBe('invalid_data');
    expect(await e.store.list({ parentId: invalid.runId })).toEqual([]);
  });

  it('a wait inside the child makes the parent wait; an event sent to the parent (or to the child) reaches it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'stepwise-child-'));
    const e = await engine();
    const def = parent({ sub: { workflow: { id: 'approval' }, next: 'done' }, done: { final: true, output: '{% $steps.sub.output %}' } });
    const waiting = await e.start(def);
    expect(waiting.status).toBe('waiting');
    // The parent says what its waiting child accepts.
    expect(waiting.waitingFor).toEqual({ step: 'sub', events: ['APPROVE', 'REJECT'], timeoutAt: null });
    expect((await e.get(waiting.runId)).waitingFor?.events).toEqual(['APPROVE', 'REJECT']);
    const [child] = await e.store.list({ parentId: waiting.runId });
    expect(child?.status).toBe('waiting');
    const done = await e.send(waiting.runId, 'APPROVE', { by: 'ana' });
    expect(done.status).toBe('done');
    expect(done.output).toEqual({ approved: true, by: 'ana' });
    await expect(e.send(waiting.runId, 'APPROVE')).rejects.toThrow(/not waiting|accepts/);

    const second = await e.start(def);
    const [child2] = await e.store.list({ parentId: second.runId });
    const childView = await e.send(child2!.id, 'REJECT');
    expect(childView.status).toBe('done');
    expect((await e.get(second.runId)).output).toEqual({ approved: false });
    // An event nobody waits for names what the child accepts.
    const third = await e.start(def);
    await expect(e.send(third.runId, 'ESCALATE')).rejects.toThrow(/APPROVE, REJECT/);
  });

  it('cancel of the parent cancels the waiting child', async () => {
    dir = mkdtempSync(join(tmpdir(), 'stepwise-child-'));
    const e = await engine();
    const waiting = await e.start(parent({ sub: { workflow: { id: 'approval' } }, done: { final: true } }));
    const cancelled = await e.cancel(waiting.runId, 'no longer needed');
    expect(cancelled.status).toBe('cancelled');
    const [child] = await e.store.list({ parentId: waiting.runId });
    expect(child?.status).toBe('cancelled');
  });

  it('a worker claims the parent (never the child) when the child\'s timer comes, and drives the child under the parent\'s lease', async () => {
    dir = mkdtempSync(join(tmpdir(), 'stepwise-child-'));
    const clock = new ManualClock();
    const store = createSqliteStore({ path: join(dir, 'runs.db') });
    stores.push(store);
    const timed = loadDefinitionFromObject(
      { id: 'timed', steps: { ask: { wait: { on: { APPROVE: 'ok' }, timeout: '1h', onTimeout: 'late' } }, ok: { final: true, output: 'approved' }, late: { final: true, output: 'timed out' } } },
      [],
      'timed',
    );
    const e = createEngine({ store, tools, workflows: [timed], clock });
    const def = parent({ sub: { workflow: { id: 'timed' }, next: 'done' }, done: { final: true, output: '{% $steps.sub.output %}' } });
    const waiting = await e.start(def);
    expect(waiting.status).toBe('waiting');
    const [child] = await store.list({ parentId: waiting.runId });
    // The parent's timer is its child's: a worker finds the parent due then.
    expect((await store.get(waiting.runId))?.wakeAt).toBe(child!.wakeAt);
    expect(child!.wakeAt).toBe(clock.now() + 3_600_000);
    expect(await store.claim({ owner: 'x', now: clock.now() + 3_599_999, leaseMs: 1, limit: 10 })).toEqual([]);
    clock.advance(3_600_000);
    const summary = await e.work({ exitWhenIdle: true, pollMs: 1 });
    expect(summary.claimed).toBe(1);
    const done = await e.get(waiting.runId);
    expect(done.status).toBe('done');
    expect(done.output).toBe('timed out');
    expect(await store.get(child!.id)).toMatchObject({ status: 'done', lease: null, output: 'timed out' });
  });

  it('cancel of the child alone fails the parent step, which takes its onError route', async () => {
    dir = mkdtempSync(join(tmpdir(), 'stepwise-child-'));
    const e = await engine();
    const waiting = await e.start(parent({ sub: { workflow: { id: 'approval' }, onError: 'gave_up', next: 'done' }, gave_up: { final: true, output: '{% $steps.sub.error.kind %}' }, done: { final: true } }));
    const [child] = await e.store.list({ parentId: waiting.runId });
    expect((await e.cancel(child!.id, 'withdrawn')).status).toBe('cancelled');
    const after = await e.get(waiting.runId);
    expect(after.status).toBe('done');
    expect(after.output).toBe('cancelled');
  });

  it('charges the parent what the child spends; a child out of budget stops the parent, and a resume of the parent resumes the child', async () => {
    dir = mkdtempSync(join(tmpdir(), 'stepwise-child-'));
    const e = await engine();
    const def = parent({ sub: { workflow: { id: 'summarizer', input: { text: 'A long text about invoices.' } }, next: 'done' }, done: { final: true, output: '{% $steps.sub.output %}' } });
    const run = await e.start(def);
    expect(run.status).toBe('done');
    const [child] = await e.store.list({ parentId: run.runId });
    expect(child!.usage.totalTokens).toBeGreaterThan(0);
    expect(run.usage).toEqual(child!.usage);

    // Sharing the parent's budget: too small for the child's first call.
    const poor = await e.start(def, { budget: 50 });
    expect(poor.status).toBe('budget_exhausted');
    const [poorChild] = await e.store.list({ parentId: poor.runId });
    expect(poorChild?.status).toBe('budget_exhausted');
    const resumed = await e.resume(poor.runId, { budget: 50_000 });
    expect(resumed.status).toBe('done');
    expect((await e.store.get(poorChild!.id))?.status).toBe('done');
    expect(resumed.usage.totalTokens).toBe((await e.store.get(poorChild!.id))!.usage.totalTokens);

    // A slice too small for the child's call stops the run; a resume lets the child go on with what the parent's
    // pool has left (the resume is the decision to spend more), instead of the same slice again and again.
    const thin = await e.start(parent({ sub: { workflow: { id: 'summarizer', input: { text: 'A long text about invoices.' }, budget: { tokens: 60 } }, next: 'done' }, done: { final: true, output: '{% $steps.sub.output %}' } }));
    expect(thin.status).toBe('budget_exhausted');
    const [thinChild] = await e.store.list({ parentId: thin.runId });
    expect(thinChild?.status).toBe('budget_exhausted');
    const widened = await e.resume(thin.runId, { budget: 50_000 });
    expect(widened.status).toBe('done');
    expect((await e.store.get(thinChild!.id))?.status).toBe('done');

    // The slice stays lifted on the child's later drives in the parent's step (its wait timed out; the clock sleeps
    // through it), where it is not resumed again: it would have a pool of nothing left of its 60 tokens.
    const twice = await e.start(parent({ sub: { workflow: { id: 'twice', input: { text: 'A long text about invoices.' }, budget: { tokens: 60 } }, next: 'done' }, done: { final: true, output: '{% $steps.sub.output %}' } }));
    expect(twice.status).toBe('budget_exhausted');
    const waiting = await e.resume(twice.runId, { budget: 50_000 });
    expect(waiting.status).toBe('waiting');
    (e.clock as ManualClock).advance(61_000);
    const finished = await e.resume(twice.runId);
    expect(finished.status, finished.failure?.message).toBe('done');
    const [twiceChild] = await e.store.list({ parentId: twice.runId });
    expect(twiceChild!.usage.totalTokens).toBeGreaterThan(60);

    // A slice the parent cannot afford is refused before the child starts.
    const sliced = await e.start(parent({ sub: { workflow: { id: 'summarizer', input: { text: 'x' }, budget: { tokens: 100_000 } } }, done: { final: true } }));
    expect(sliced.status).toBe('budget_exhausted');
    expect(await e.store.list({ parentId: sliced.runId })).toEqual([]);
  });
});

describe('map bodies that begin with a step reading its own run', () => {
  it('a body whose first step is a sub-workflow, and one whose first step is a map, run every item', async () => {
    dir = mkdtempSync(join(tmpdir(), 'stepwise-child-'));
    const e = await engine();
    const subs = parent({
      each: { map: { items: '{% $input.ns %}', maxConcurrency: 2, steps: { sub: { workflow: { id: 'doubler', input: { n: '{% $input.item %}' } } } } }, next: 'done' },
      done: { final: true, output: '{% $steps.each.output.n %}' },
    });
    const run = await e.start(subs, { input: { ns: [1, 2, 3] } });
    expect(run.status).toBe('done');
    expect(run.output).toEqual([2, 4, 6]);
    const nested = loadDefinitionFromObject(
      {
        id: 'nested',
        steps: {
          rows: {
            map: {
              items: '{% $input.rows %}',
              as: 'row',
              steps: { cells: { map: { items: '{% $input.row %}', as: 'cell', steps: { x2: { tool: 'double', with: { n: '{% $input.cell %}' } } } } } },
            },
            next: 'done',
          },
          done: { final: true, output: '{% $steps.rows.output %}' },
        },
      },
      tools,
      'nested',
    );
    const grid = await e.start(nested, { input: { rows: [[1, 2], [3]] } });
    expect(grid.status).toBe('done');
    expect(grid.output).toEqual([[{ n: 2 }, { n: 4 }], [{ n: 6 }]]);
  });
});
