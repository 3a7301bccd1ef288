/**
 * `redrive` of a map that failed inside a `parallel` branch (fail_fast), through
 * the real engine on a real SQLite file: the run goes back to where it was when
 * the branch failed. Only the map's failed items run again; a branch that had
 * ended keeps its output (its steps do not run again); a sibling step the
 * failure aborted runs its attempt again, and the child runs the failure
 * cancelled under it go on from where they were. The run's usage still counts
 * everything spent, and `rerun --from` replays through the redrive.
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
import type { RunView } from '../../src/engine/view.js';
import { rerun } from '../../src/engine/rerun.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import type { JournalEntry } from '../../src/run/types.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';
import { snapshotOf } from '../../src/engine/view.js';

const priced: number[] = [];
const broken = new Set<number>();
const noted: string[] = [];
const held: number[] = [];
/** While false, `hold` waits until its attempt is aborted. */
let released = false;
/** Called with each index `hold` is called with. */
let onHold: (index: number) => void = () => {};
/** A broken line fails only once the note 'right' (or 'b') is written: the branch writing it has ended by then. */
let rightWritten: () => void = () => {};
let written = Promise.resolve();
const gate = (needed: boolean) => {
  written = needed ? new Promise<void>((resolve) => (rightWritten = resolve)) : Promise.resolve();
};

const price = defineTool({
  name: 'price',
  description: 'Prices one line',
  input: z.object({ qty: z.number(), index: z.number() }),
  run: async ({ qty, index }) => {
    priced.push(index);
    await new Promise((resolve) => setImmediate(resolve));
    if (broken.has(index)) {
      await written;
      throw new Error(`line ${index} is broken`);
    }
    return { total: qty * 10 };
  },
});
const note = defineTool({
  name: 'note',
  description: 'Writes a note',
  input: z.object({ text: z.string() }),
  run: (input) => {
    noted.push(input.text);
    // An onError step that loops back: the next visit finds the lines mended and the holds released.
    if (input.text === 'handler') {
      broken.clear();
      released = true;
    }
    if (input.text === 'right' || input.text === 'b') rightWritten();
    return input;
  },
});
const hold = defineTool({
  name: 'hold',
  description: 'Holds a line until released',
  input: z.object({ index: z.number() }),
  run: async ({ index }, env) => {
    held.push(index);
    onHold(index);
    if (!released) {
      await new Promise((_, reject) => {
        if (env.signal.aborted) reject(new Error('aborted'));
        env.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      });
    }
    return { held: index };
  },
});
/** Fails the `failOn`-th call of `key`. */
const calls = new Map<string, number>();
const flaky = defineTool({
  name: 'flaky',
  description: 'Fails the n-th call of a key',
  input: z.object({ key: z.string(), failOn: z.number() }),
  run: ({ key, failOn }) => {
    const n = (calls.get(key) ?? 0) + 1;
    calls.set(key, n);
    if (n === failOn) throw new Error(`${key} fails on call ${n}`);
    return { key, n };
  },
});
/** Hangs until its attempt is aborted (its step's timeout ends it: it moves the manual clock past the timeout). */
let slowCalls = 0;
const slow = defineTool({
  name: 'slow',
  description: 'A call that hangs until aborted',
  input: z.object({}),
  run: async (_input, env) => {
    slowCalls++;
    const aborted = new Promise((_, reject) => {
      if (env.signal.aborted) reject(new Error('aborted'));
      env.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
    clock.advance(10_000);
    await aborted;
    return {};
  },
});
let clock: ManualClock;
const tools = [price, note, hold, flaky, slow];

let dir: string | undefined;
let emu: Emulator | undefined;
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await emu?.close();
  emu = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  priced.length = 0;
  broken.clear();
  noted.length = 0;
  held.length = 0;
  released = false;
  onHold = () => {};
  calls.clear();
  slowCalls = 0;
  wrapStore = undefined;
  gate(false);
});

/** A child workflow whose one step holds until released. */
const holder = loadDefinitionFromObject(
  { id: 'holder', input: { type: 'object', properties: { index: { type: 'number' } } }, steps: { h: { tool: 'hold', with: { index: '{% $input.index %}' } }, out: { final: true, output: '{% $steps.h.output %}' } } },
  tools,
  'holder',
);

/** A child workflow whose map tolerates one failed item (item 0 fails) and whose items then hold until released. */
const tolerant = loadDefinitionFromObject(
  {
    id: 'tolerant',
    steps: {
      m: {
        map: {
          items: [0, 1],
          maxConcurrency: 2,
          toleratedFailures: 1,
          steps: {
            f: { tool: 'flaky', with: { key: '{% "g" & $string($input.item) %}', failOn: '{% $input.item = 0 ? 1 : 99 %}' }, retry: { maxAttempts: 1 } },
            h: { tool: 'hold', with: { index: '{% $input.item %}' } },
          },
        },
      },
      out: { final: true, output: '{% $steps.m.output %}' },
    },
  },
  tools,
  'tolerant',
);

/** A child workflow whose map's items each write a note with the model (tokens), then hold until released. */
const writers = loadDefinitionFromObject(
  {
    id: 'writers',
    steps: {
      km: {
        map: {
          items: [0, 1],
          maxConcurrency: 2,
          steps: {
            write: { claude: { tool: 'note', prompt: 'Write a note about this line.', context: { line: '{% $input.item %}' }, maxTokens: 200 } },
            h: { tool: 'hold', with: { index: '{% $input.item %}' } },
          },
        },
      },
      out: { final: true, output: '{% $steps.km.output %}' },
    },
  },
  tools,
  'writers',
);

/** Wraps the engine's store (the test's own reads go to it too). */
let wrapStore: ((store: Store) => Store) | undefined;

async function engine(): Promise<Engine> {
  dir ??= mkdtempSync(join(tmpdir(), 'stepwise-branch-redrive-'));
  emu ??= await startEmulator({ seed: 3 });
  const raw = createSqliteStore({ path: join(dir, 'runs.db') });
  stores.push(raw);
  const store = wrapStore ? wrapStore(raw) : raw;
  return createEngine({
    store,
    tools,
    workflows: [holder, tolerant, writers],
    model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS },
    clock: (clock = new ManualClock({ autoAdvance: true })),
  });
}

const lines = (n: number) => Array.from({ length: n }, (_, i) => ({ qty: i + 1 }));
const pricing = { map: { items: '{% $input.lines %}', maxConcurrency: 1, steps: { price: { tool: 'price', with: { qty: '{% $input.item.qty %}', index: '{% $input.index %}' } } } } };

function definition(right: Record<string, unknown>) {
  return loadDefinitionFromObject(
    {
      id: 'branch-lines',
      budget: { tokens: 100_000 },
      steps: {
        p: { parallel: { branches: { left: { steps: { each: pricing } }, right: { steps: right } } }, next: 'wrap' },
        wrap: { tool: 'note', with: { text: 'wrap' }, next: 'done' },
        done: { final: true, output: '{% $steps.p.output %}' },
      },
    },
    tools,
    'branch-lines',
  );
}

/** A map body step that writes a note about its item with the model (it spends tokens). */
const writeNote = { claude: { tool: 'note', prompt: 'Write a note about this line.', context: { line: '{% $input.item %}' }, maxTokens: 200 } };

const journaledTokens = (journal: readonly JournalEntry[]) => journal.reduce((t, e) => t + (e.usage?.totalTokens ?? 0), 0);

/**
 * The run's usage is what its child runs spent (it calls no model itself) and what its journal sums to; with `from`,
 * a rerun from that step counts the same.
 */
/** What the runs below `runId` spent by their own model calls (the leaves of its tree of child runs). */
async function leafSpend(e: Engine, runId: string): Promise<number> {
  const children = await e.store.list({ parentId: runId });
  if (children.length === 0) return (await e.store.get(runId))!.usage.totalTokens;
  let total = 0;
  for (const child of children) total += await leafSpend(e, child.id);
  return total;
}

async function expectAccounted(e: Engine, run: RunView, from?: string): Promise<void> {
  const children = await e.store.list({ parentId: run.runId });
  expect(run.usage.totalTokens).toBe(children.reduce((t, c) => t + c.usage.totalTokens, 0));
  expect(journaledTokens(await e.journal(run.runId))).toBe(run.usage.totalTokens);
  if (from !== undefined) expect((await rerun(e, run.runId, from)).usage.totalTokens).toBe(run.usage.totalTokens);
}

describe('redrive of a map inside a parallel branch', () => {
  it('runs only the failed items; a branch that ended keeps its output; the run goes on past the parallel step', async () => {
    const e = await engine();
    broken.add(1);
    gate(true);
    // The right branch: a model step and a tool step, both ended before the left map fails (the map's items run one at a time).
    const def = definition({
      ask: { claude: { tool: 'note', prompt: 'Write a short note about the invoice.', context: { lines: '{% $input.lines %}' } } },
      told: { tool: 'note', with: { text: 'right' } },
    });
    const failed = await e.start(def, { input: { lines: lines(4) } });
    expect(failed.status).toBe('failed');
    expect(failed.failure?.step).toBe('p');
    expect(failed.redrivable).toBe(true);
    expect([...new Set(priced)].sort()).toEqual([0, 1, 2, 3]);
    expect(noted).toContain('right');
    const spentBefore = failed.usage.totalTokens;
    expect(spentBefore).toBeGreaterThan(0);

    priced.length = 0;
    noted.length = 0;
    broken.clear();
    const redriven = await e.redrive(failed.runId);
    expect(redriven.status).toBe('done');
    expect(priced).toEqual([1]);
    // The right branch ended before the failure: neither its model step nor its tool step ran again; `wrap` ran once.
    expect(noted).toEqual(['wrap']);
    expect(redriven.output).toMatchObject({ left: [10, 20, 30, 40].map((total) => ({ total })), right: { text: 'right' } });
    // Nothing spent is forgotten: the model step's tokens stay counted, and the journal sums to the run's usage.
    expect(redriven.usage.totalTokens).toBe(spentBefore);
    const journal = await e.journal(failed.runId);
    expect(journaledTokens(journal)).toBe(redriven.usage.totalTokens);
    const resumed = journal.filter((j) => j.event === 'resumed');
    expect(resumed).toHaveLength(1);
    expect(resumed[0]!.data).toMatchObject({ redrive: true, step: 'each', items: [1] });
    // Item 1 ran in a new redrive round; the others kept their first runs.
    const items = await e.store.list({ parentId: failed.runId });
    expect(items.filter((c) => c.options.parent?.index === 1).map((c) => [c.options.parent?.round, c.status]).sort()).toEqual([
      [0, 'failed'],
      [1, 'done'],
    ]);
    expect(items.filter((c) => c.options.parent?.index !== 1).every((c) => c.status === 'done' && c.options.parent?.round === 0)).toBe(true);
    // Nothing is left to redrive.
    await expect(e.redrive(failed.runId)).rejects.toThrow(/did not fail in a map step/);

    // A rerun from after the parallel step replays through the redrive: the map's output and the right branch's are kept.
    noted.length = 0;
    priced.length = 0;
    const again = await rerun(e, failed.runId, 'wrap');
    expect(again.status).toBe('done');
    expect(again.output).toEqual(redriven.output);
    expect(priced).toEqual([]);
    expect(noted).toEqual(['wrap']);
  });

  it('a sibling step the failure aborted runs again, and the child runs the failure cancelled under it go on', async () => {
    const e = await engine();
    broken.add(2);
    // The right branch: a map whose items hold until released; the left map's failure aborts them and cancels their runs.
    const def = definition({ holding: { map: { items: [0, 1], maxConcurrency: 2, steps: { h: { tool: 'hold', with: { index: '{% $input.item %}' } } } } } });
    const failed = await e.start(def, { input: { lines: lines(3) } });
    expect(failed.status).toBe('failed');
    expect(failed.redrivable).toBe(true);
    expect([...held].sort()).toEqual([0, 1]);
    const before = await e.store.list({ parentId: failed.runId });
    const holders = before.filter((c) => c.options.parent?.step === 'holding');
    expect(holders.map((c) => c.status)).toEqual(['cancelled', 'cancelled']);

    released = true;
    held.length = 0;
    priced.length = 0;
    broken.clear();
    const redriven = await e.redrive(failed.runId);
    expect(redriven.status).toBe('done');
    expect(priced).toEqual([2]);
    expect([...held].sort()).toEqual([0, 1]);
    expect(redriven.output).toMatchObject({ left: [10, 20, 30].map((total) => ({ total })), right: [{ held: 0 }, { held: 1 }] });
    // The held items' own runs went on (no new runs for them): each was taken back from its cancel, then done.
    const after = await e.store.list({ parentId: failed.runId });
    const holdersAfter = after.filter((c) => c.options.parent?.step === 'holding');
    expect(holdersAfter.map((c) => c.id).sort()).toEqual(holders.map((c) => c.id).sort());
    expect(holdersAfter.map((c) => c.status)).toEqual(['done', 'done']);
    const itemJournal = await e.journal(holders[0]!.id);
    expect(itemJournal.map((j) => j.event)).toContain('cancelled');
    expect(itemJournal.find((j) => j.event === 'resumed')?.data).toMatchObject({ uncancelled: true, parent: failed.runId });
  });

  it('through a nested parallel step, with a sibling workflow step whose child the failure cancelled', async () => {
    const e = await engine();
    broken.add(0);
    gate(true);
    // p > left > inner > (a: the map | b: a note); p > right > sub (a child workflow that holds until released).
    const def = loadDefinitionFromObject(
      {
        id: 'nested-lines',
        steps: {
          p: {
            parallel: {
              branches: {
                left: { steps: { inner: { parallel: { branches: { a: { steps: { each: pricing } }, b: { steps: { b1: { tool: 'note', with: { text: 'b' } } } } } } } } },
                right: { steps: { sub: { workflow: { id: 'holder', input: { index: 7 } } } } },
              },
            },
            next: 'done',
          },
          done: { final: true, output: '{% $steps.p.output %}' },
        },
      },
      tools,
      'nested-lines',
    );
    const failed = await e.start(def, { input: { lines: lines(2) } });
    expect(failed.status).toBe('failed');
    expect(failed.failure?.step).toBe('p');
    expect(failed.redrivable).toBe(true);
    const child = (await e.store.list({ parentId: failed.runId })).find((c) => c.options.parent?.step === 'sub')!;
    expect(child.status).toBe('cancelled');
    expect(held).toEqual([7]);

    released = true;
    held.length = 0;
    priced.length = 0;
    noted.length = 0;
    broken.clear();
    const redriven = await e.redrive(failed.runId);
    expect(redriven.status).toBe('done');
    expect(priced).toEqual([0]);
    expect(noted).toEqual([]);
    expect(held).toEqual([7]);
    expect(redriven.output).toEqual({ left: { a: [{ total: 10 }, { total: 20 }], b: { text: 'b' } }, right: { held: 7 } });
    // The child workflow's own run went on (taken back from its cancel), not a new one.
    expect((await e.store.get(child.id))?.status).toBe('done');
    expect((await e.store.list({ parentId: failed.runId })).filter((c) => c.options.parent?.step === 'sub')).toHaveLength(1);
  });

  it('a sibling map aborted while its effect is still reading its items stops: none of its items starts', async () => {
    // The sibling map's first read of its items' runs is held until the left branch has failed the parallel step.
    let failedYet: () => void = () => {};
    const failure = new Promise<void>((resolve) => (failedYet = resolve));
    let holdReads = false;
    wrapStore = (store) =>
      new Proxy(store, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (prop !== 'list') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          return async (filter: Parameters<Store['list']>[0]) => {
            if (holdReads && filter?.parentId && !filter.status) await failure;
            return store.list(filter);
          };
        },
      });
    const e = await engine();
    e.subscribe((_view, journal) => {
      if (journal.some((j) => j.step === 'p' && j.event === 'failed')) failedYet();
    });
    broken.add(0);
    gate(true);
    const def = loadDefinitionFromObject(
      {
        id: 'race',
        steps: {
          p: {
            parallel: {
              branches: {
                left: { steps: { each: pricing } },
                right: { steps: { pre: { tool: 'note', with: { text: 'b' } }, holding: { map: { items: [0, 1], maxConcurrency: 2, steps: { h: { tool: 'hold', with: { index: '{% $input.item %}' } } } } } } },
              },
            },
            next: 'done',
          },
          done: { final: true, output: '{% $steps.p.output %}' },
        },
      },
      tools,
      'race',
    );
    onHold = () => {};
    const original = note.run;
    (note as { run: unknown }).run = (input: { text: string }, env: unknown) => {
      if (input.text === 'b') holdReads = true;
      return (original as (i: unknown, env: unknown) => unknown)(input, env);
    };
    try {
      const failed = await e.start(def, { input: { lines: lines(1) } });
      expect(failed.status).toBe('failed');
      expect(held).toEqual([]);
    } finally {
      (note as { run: unknown }).run = original;
    }
  });

  it('a checkpoint whose failure an onError step took is not redriven from when the run fails later, elsewhere', async () => {
    const e = await engine();
    broken.add(0);
    const def = loadDefinitionFromObject(
      {
        id: 'handled',
        steps: {
          q: {
            parallel: {
              branches: {
                x: {
                  steps: {
                    p: { parallel: { branches: { a: { steps: { each: pricing } } } }, onError: 'handler', next: 'after' },
                    handler: { tool: 'flaky', with: { key: 'handler', failOn: 1 }, retry: { maxAttempts: 1 } },
                    after: { tool: 'note', with: { text: 'after' } },
                  },
                },
              },
            },
            next: 'done',
          },
          done: { final: true, output: '{% $steps.q.output %}' },
        },
      },
      tools,
      'handled',
    );
    const failed = await e.start(def, { input: { lines: lines(2) } });
    expect(failed.status).toBe('failed');
    expect(failed.failure?.step).toBe('q');
    expect(failed.failure?.message).toMatch(/handler/);
    expect(failed.redrivable).toBe(false);
    await expect(e.redrive(failed.runId)).rejects.toThrow(/did not fail in a map step/);
  });

  it('after a resume that fails before the map runs again, the run is neither redrivable nor redriven', async () => {
    const e = await engine();
    broken.add(1);
    const def = loadDefinitionFromObject(
      {
        id: 'stale',
        steps: {
          p: { parallel: { branches: { left: { steps: { pre: { tool: 'flaky', with: { key: 'pre', failOn: 2 }, retry: { maxAttempts: 1 } }, each: pricing } } } }, next: 'done' },
          done: { final: true, output: '{% $steps.p.output %}' },
        },
      },
      tools,
      'stale',
    );
    const failed = await e.start(def, { input: { lines: lines(2) } });
    expect(failed.status).toBe('failed');
    expect(failed.redrivable).toBe(true);
    const resumed = await e.resume(failed.runId);
    expect(resumed.status).toBe('failed');
    expect(resumed.failure?.message).toMatch(/pre/);
    expect(resumed.redrivable).toBe(false);
    await expect(e.redrive(failed.runId)).rejects.toThrow(/did not fail in a map step/);
  });

  it('a rerun through a redrive from a checkpoint takes the budget of the definition it reruns on', async () => {
    const e = await engine();
    broken.add(1);
    gate(true);
    const def = definition({ told: { tool: 'note', with: { text: 'right' } } });
    const failed = await e.start(def, { input: { lines: lines(3) } });
    broken.clear();
    expect((await e.redrive(failed.runId)).status).toBe('done');
    const changed = loadDefinitionFromObject({ ...(def.workflow as object), budget: { tokens: 55_555 } } as never, tools, 'branch-lines');
    const again = await rerun(e, failed.runId, 'wrap', { definition: changed });
    expect(again.status).toBe('done');
    expect(again.budget.tokens).toBe(55_555);
  });

  it('a grandchild that had failed, tolerated, when the failure cancelled it is taken back failed, with its failure', async () => {
    const e = await engine();
    broken.add(0);
    gate(true);
    // The left map fails once the child's item 1 holds (item 0 has failed by then, tolerated).
    onHold = (index) => {
      if (index === 1) rightWritten();
    };
    const def = loadDefinitionFromObject(
      {
        id: 'grandchild',
        steps: {
          p: { parallel: { branches: { left: { steps: { each: pricing } }, right: { steps: { sub: { workflow: { id: 'tolerant' } } } } } }, next: 'done' },
          done: { final: true, output: '{% $steps.p.output %}' },
        },
      },
      tools,
      'grandchild',
    );
    const failed = await e.start(def, { input: { lines: lines(1) } });
    expect(failed.status).toBe('failed');
    const child = (await e.store.list({ parentId: failed.runId })).find((c) => c.options.parent?.step === 'sub')!;
    const first = (await e.store.list({ parentId: child.id })).find((g) => g.options.parent?.index === 0)!;
    expect(first.status).toBe('cancelled');
    released = true;
    broken.clear();
    const redriven = await e.redrive(failed.runId);
    expect(redriven.status).toBe('done');
    const back = (await e.store.get(first.id))!;
    expect(back.status).toBe('failed');
    expect(back.failure?.message).toMatch(/g0 fails on call 1/);
    expect(redriven.output).toMatchObject({ right: [null, { held: 1 }] });
  });

  it('an attempt the failure aborted does not count against its tool\'s circuit breaker', async () => {
    const e = await engine();
    broken.add(0);
    gate(true);
    onHold = () => rightWritten();
    // One failure opens hold's breaker: the aborted call, counted as one, would refuse the redrive's call.
    const def = definition({ h: { tool: 'hold', with: { index: 5 }, breaker: { threshold: 1 } } });
    const failed = await e.start(def, { input: { lines: lines(1) } });
    expect(failed.status).toBe('failed');
    expect(held).toEqual([5]);
    released = true;
    broken.clear();
    const redriven = await e.redrive(failed.runId);
    expect(redriven.failure).toBeNull();
    expect(redriven.status).toBe('done');
    expect(held).toEqual([5, 5]);
  });

  it('what the children of an aborted sibling step spent is charged to the run, once, and again after the redrive', async () => {
    const e = await engine();
    broken.add(0);
    gate(true);
    // The right map's items each write a note with the model (tokens), then hold; the left map fails once both hold.
    onHold = () => {
      if (held.length === 2) rightWritten();
    };
    const def = definition({
      holding: {
        map: {
          items: [0, 1],
          maxConcurrency: 2,
          steps: {
            write: writeNote,
            h: { tool: 'hold', with: { index: '{% $input.item %}' } },
          },
        },
      },
    });
    const failed = await e.start(def, { input: { lines: lines(1) } });
    expect(failed.status).toBe('failed');
    expect(failed.usage.totalTokens).toBeGreaterThan(0);
    await expectAccounted(e, failed);

    released = true;
    broken.clear();
    const redriven = await e.redrive(failed.runId);
    expect(redriven.status).toBe('done');
    await expectAccounted(e, redriven, 'wrap');
  });

  it('a resume instead of a redrive also counts what the aborted children spent', async () => {
    const e = await engine();
    broken.add(0);
    gate(true);
    onHold = () => rightWritten();
    const def = definition({
      holding: {
        map: {
          items: [0],
          steps: {
            write: writeNote,
            h: { tool: 'hold', with: { index: '{% $input.item %}' } },
          },
        },
      },
    });
    const failed = await e.start(def, { input: { lines: lines(1) } });
    expect(failed.status).toBe('failed');
    released = true;
    broken.clear();
    const resumed = await e.resume(failed.runId);
    expect(resumed.status).toBe('done');
    await expectAccounted(e, resumed, 'wrap');
  });

  it('a map in another branch that was still running has its failed items run again too', async () => {
    const e = await engine();
    broken.add(0);
    gate(true);
    onHold = () => rightWritten();
    // The right map: item 0 fails at once, then item 1 holds; the left map fails after that.
    const def = definition({
      second: {
        map: {
          items: [0, 1],
          maxConcurrency: 1,
          steps: {
            f: { tool: 'flaky', with: { key: '{% "r" & $string($input.item) %}', failOn: '{% $input.item = 0 ? 1 : 99 %}' }, retry: { maxAttempts: 1 } },
            h: { tool: 'hold', with: { index: '{% $input.item %}' } },
          },
        },
      },
    });
    const failed = await e.start(def, { input: { lines: lines(1) } });
    expect(failed.status).toBe('failed');
    expect(held).toEqual([1]);
    released = true;
    broken.clear();
    const redriven = await e.redrive(failed.runId);
    expect(redriven.status).toBe('done');
    expect(redriven.output).toMatchObject({ right: [{ held: 0 }, { held: 1 }] });
    const resumed = (await e.journal(failed.runId)).find((j) => j.event === 'resumed');
    expect(resumed?.data).toMatchObject({ step: 'each', items: [0], maps: [{ step: 'each', items: [0] }, { step: 'second', items: [0] }] });
  });

  it('a tool call that times out still counts against its breaker (an abort by its own timeout is a failure of the tool)', async () => {
    const e = await engine();
    slowCalls = 0;
    const def = loadDefinitionFromObject(
      { id: 'timeouts', steps: { s: { tool: 'slow', with: {}, timeout: '5s', retry: { maxAttempts: 1 }, breaker: { threshold: 1, cooldown: '1h' }, next: 'done' }, done: { final: true, output: 1 } } },
      tools,
      'timeouts',
    );
    const first = await e.start(def, {});
    expect(first.status).toBe('failed');
    expect(first.failure?.kind).toBe('timeout');
    const second = await e.start(def, {});
    // With threshold 1, the timed-out call opened the breaker: the second run is refused without calling the tool.
    expect(second.failure?.kind).toBe('breaker_open');
    expect(slowCalls).toBe(1);
  });

  it('a redriven item of a sibling map gets what the run has left (the abort charge is not subtracted twice)', async () => {
    const e = await engine();
    broken.add(0);
    gate(true);
    onHold = () => rightWritten();
    const def = definition({
      second: {
        map: {
          items: [0, 1],
          maxConcurrency: 1,
          steps: {
            write: writeNote,
            f: { tool: 'flaky', with: { key: '{% "r" & $string($input.item) %}', failOn: '{% $input.item = 0 ? 1 : 99 %}' }, retry: { maxAttempts: 1 } },
            h: { tool: 'hold', with: { index: '{% $input.item %}' } },
          },
        },
      },
    });
    const failed = await e.start(def, { input: { lines: lines(1) } });
    expect(failed.status).toBe('failed');
    const journal = await e.journal(failed.runId);
    const abort = journal.find((j) => (j.data as { aborted?: boolean } | undefined)?.aborted === true);
    expect(abort?.step).toBe('second');
    const charged = (abort!.data as { charged: { totalTokens: number } }).charged.totalTokens;
    expect(charged).toBeGreaterThan(0);
    released = true;
    broken.clear();
    const redriven = await e.redrive(failed.runId);
    const kids = await e.store.list({ parentId: failed.runId });
    const budgetOf = (step: string) => snapshotOf(kids.find((c) => c.options.parent?.step === step && c.options.parent?.round === 1)!).context.budget.tokens;
    const b = snapshotOf((await e.store.get(failed.runId))!).context.budget;
    const left = Math.floor(b.stopAt * b.tokens) - failed.usage.totalTokens;
    expect(budgetOf('each')).toBe(left);
    expect(budgetOf('second')).toBe(left);
    expect(redriven.status).toBe('done');
  });

  it('a sibling aborted while onError loops back into the parallel step: its charge is booked on the visit it was aborted in', async () => {
    // The aborted map's items are slow to wind down (their commits wait) until the parallel step has been entered again.
    let again: () => void = () => {};
    const reentered = new Promise<void>((resolve) => (again = resolve));
    let slowDown = false;
    wrapStore = (store) =>
      new Proxy(store, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (prop !== 'commit') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          return async (...args: unknown[]) => {
            if (slowDown && typeof args[0] === 'string' && (args[0] as string).includes('~holding.1')) await reentered;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    const e = await engine();
    e.subscribe((_view, journal) => {
      if (journal.some((j) => j.step === 'p' && j.event === 'started' && j.visit === 2)) again();
    });
    broken.add(0);
    gate(true);
    const original = note.run;
    (note as { run: unknown }).run = (input: { text: string }, env: unknown) => {
      if (input.text === 'b' && !released) slowDown = true;
      return (original as (i: unknown, env: unknown) => unknown)(input, env);
    };
    const def = loadDefinitionFromObject(
      {
        id: 'loop-back',
        budget: { tokens: 100_000 },
        steps: {
          p: {
            parallel: {
              branches: {
                left: { steps: { each: pricing } },
                right: {
                  steps: {
                    holding: {
                      map: {
                        items: [0],
                        steps: {
                          write: writeNote,
                          n: { tool: 'note', with: { text: 'b' } },
                          h: { tool: 'hold', with: { index: '{% $input.item %}' } },
                        },
                      },
                    },
                  },
                },
              },
            },
            onError: 'handler',
            next: 'done',
          },
          handler: { tool: 'note', with: { text: 'handler' }, next: 'p' },
          done: { final: true, output: '{% $steps.p.output %}' },
        },
      },
      tools,
      'loop-back',
    );
    const run = await e.start(def, { input: { lines: lines(1) } }).finally(() => ((note as { run: unknown }).run = original));
    expect(run.status).toBe('done');
    const journal = await e.journal(run.runId);
    const abort = journal.find((j) => (j.data as { aborted?: boolean } | undefined)?.aborted === true);
    expect(abort).toBeDefined();
    await expectAccounted(e, run, 'done');
    // The aborted attempt was visit 1's, and no entry carries a negative share.
    expect(abort!.visit).toBe(1);
    expect(journal.every((j) => (j.usage?.totalTokens ?? 0) >= 0)).toBe(true);
  });

  it('a sibling map charged while it rested, then aborted: the journal and a rerun count what it spent', async () => {
    const e = await engine();
    broken.add(0);
    gate(true);
    onHold = () => rightWritten();
    const def = loadDefinitionFromObject(
      {
        id: 'rested-then-aborted',
        budget: { tokens: 100_000 },
        steps: {
          p: {
            parallel: {
              branches: {
                // Both branches rest on a one-minute timer; then the left map fails once the right item holds.
                left: { steps: { lw: { wait: { on: { LEFT: 'each' }, timeout: '1m', onTimeout: 'each' } }, each: pricing } },
                right: {
                  steps: {
                    holding: {
                      map: {
                        items: [0],
                        steps: {
                          write: writeNote,
                          w: { wait: { on: { ITEM: 'h' }, timeout: '1m', onTimeout: 'h' } },
                          h: { tool: 'hold', with: { index: '{% $input.item %}' } },
                        },
                      },
                    },
                  },
                },
              },
            },
            onError: 'wrap',
            next: 'wrap',
          },
          wrap: { tool: 'note', with: { text: 'wrap' }, next: 'done' },
          done: { final: true, output: 'ok' },
        },
      },
      tools,
      'rested-then-aborted',
    );
    const resting = await e.start(def, { input: { lines: lines(1) } });
    expect(resting.status).toBe('waiting');
    expect(resting.usage.totalTokens).toBeGreaterThan(0); // the map's child.rest charged the item's write
    clock.advance(60_000);
    const run = await e.resume(resting.runId);
    expect(run.status).toBe('done');
    const journal = await e.journal(run.runId);
    // What the rest charged is journaled as it rested (its entry carries it), so the abort adds no entry of its own.
    const rest = journal.find((j) => j.step === 'holding' && j.event === 'waiting' && (j.data as { resting?: boolean } | undefined)?.resting === true);
    expect(rest?.usage?.totalTokens).toBe(resting.usage.totalTokens);
    await expectAccounted(e, run, 'done');
  });

  it('a sibling map resting at a wait when the failure came: the journal counts what it was charged, before and after a redrive and in a rerun', async () => {
    const e = await engine();
    broken.add(0);
    const def = loadDefinitionFromObject(
      {
        id: 'rested',
        budget: { tokens: 100_000 },
        steps: {
          p: {
            parallel: {
              branches: {
                left: { steps: { lw: { wait: { on: { LEFT: 'each' } } }, each: pricing } },
                right: {
                  steps: {
                    holding: {
                      map: {
                        items: [0],
                        steps: {
                          write: writeNote,
                          w: { wait: { on: { ITEM: 'out' } } },
                          out: { final: true, output: '{% $steps.write.output %}' },
                        },
                      },
                    },
                  },
                },
              },
            },
            next: 'wrap',
          },
          wrap: { tool: 'note', with: { text: 'wrap' }, next: 'done' },
          done: { final: true, output: '{% $steps.p.output %}' },
        },
      },
      tools,
      'rested',
    );
    const waiting = await e.start(def, { input: { lines: lines(1) } });
    expect(waiting.status).toBe('waiting');
    expect(waiting.usage.totalTokens).toBeGreaterThan(0);
    const failed = await e.send(waiting.runId, 'LEFT');
    expect(failed.status).toBe('failed');
    await expectAccounted(e, failed);
    broken.clear();
    const redriven = await e.redrive(failed.runId);
    const done = redriven.status === 'waiting' ? await e.send(failed.runId, 'ITEM') : redriven;
    expect(done.status).toBe('done');
    await expectAccounted(e, done, 'wrap');
  });

  it('what the grandchildren of an aborted sibling workflow step spent is charged to the run, and stays counted after a resume', async () => {
    const e = await engine();
    broken.add(0);
    gate(true);
    // The sibling's child runs a map whose two items spend tokens, then hold; the left map fails once both hold.
    onHold = () => {
      if (held.length === 2) rightWritten();
    };
    const def = definition({ sub: { workflow: { id: 'writers' } } });
    const failed = await e.start(def, { input: { lines: lines(1) } });
    expect(failed.status).toBe('failed');
    const spent = await leafSpend(e, failed.runId);
    expect(spent).toBeGreaterThan(0);
    expect(failed.usage.totalTokens).toBe(spent);
    expect(journaledTokens(await e.journal(failed.runId))).toBe(failed.usage.totalTokens);
    released = true;
    broken.clear();
    const resumed = await e.resume(failed.runId);
    expect(resumed.status).toBe('done');
    expect(resumed.usage.totalTokens).toBe(await leafSpend(e, failed.runId));
    expect(journaledTokens(await e.journal(failed.runId))).toBe(resumed.usage.totalTokens);

    // The same failure redriven: the child and its items are taken back and go on; their spend is counted once.
    released = false;
    held.length = 0;
    broken.add(0);
    gate(true);
    const again = await e.start(def, { input: { lines: lines(1) } });
    expect(again.status).toBe('failed');
    released = true;
    broken.clear();
    const redriven = await e.redrive(again.runId);
    expect(redriven.status).toBe('done');
    expect(redriven.usage.totalTokens).toBe(await leafSpend(e, again.runId));
    expect(journaledTokens(await e.journal(again.runId))).toBe(redriven.usage.totalTokens);
    expect((await rerun(e, again.runId, 'wrap')).usage.totalTokens).toBe(redriven.usage.totalTokens);
  });

  it('a rerun from the step an onError route took after the failure counts what the aborted sibling spent', async () => {
    const e = await engine();
    broken.add(0);
    gate(true);
    onHold = () => rightWritten();
    const def = loadDefinitionFromObject(
      {
        id: 'routed',
        steps: {
          p: {
            parallel: { branches: { left: { steps: { each: pricing } }, right: { steps: { holding: { map: { items: [0], steps: { write: writeNote, h: { tool: 'hold', with: { index: '{% $input.item %}' } } } } } } } } },
            onError: 'wrap',
            next: 'wrap',
          },
          wrap: { tool: 'note', with: { text: 'wrap' }, next: 'done' },
          done: { final: true, output: 'ok' },
        },
      },
      tools,
      'routed',
    );
    const run = await e.start(def, { input: { lines: lines(1) } });
    expect(run.status).toBe('done');
    expect(run.usage.totalTokens).toBeGreaterThan(0);
    await expectAccounted(e, run, 'wrap');
  });

  it('a run whose branch failed elsewhere, or that was resumed since, has nothing to redrive', async () => {
    const e = await engine();
    const def = loadDefinitionFromObject(
      {
        id: 'branch-tool',
        steps: {
          p: { parallel: { branches: { left: { steps: { each: pricing } }, right: { steps: { bad: { tool: 'price', with: { qty: 1, index: 9 }, retry: { maxAttempts: 1 } } } } } }, next: 'done' },
          done: { final: true, output: '{% $steps.p.output %}' },
        },
      },
      tools,
      'branch-tool',
    );
    broken.add(9);
    const failed = await e.start(def, { input: { lines: lines(2) } });
    expect(failed.status).toBe('failed');
    expect(failed.redrivable).toBe(false);
    await expect(e.redrive(failed.runId)).rejects.toThrow(/did not fail in a map step/);
  });
});
