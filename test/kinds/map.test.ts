/**
 * `map` steps through the real engine on a real SQLite file: each item is a
 * child run of the body; outputs in input order; at most maxConcurrency items
 * at once; the first item warms alone when the body calls the model; failed
 * items recorded and tolerated as a count or a percentage; per-item re-runs;
 * redrive re-runs only the failed items; a wait inside an item makes the
 * parent wait.
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
import { rerun } from '../../src/engine/rerun.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import type { NewJournalEntry } from '../../src/run/types.js';
import { buildTimeline } from '../../src/observe/timeline.js';
import { runStats } from '../../src/query/stats.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

let running = 0;
let peak = 0;
const calls: number[] = [];
const broken = new Set<number>();
/** Items that fail once, then succeed. */
const flaky = new Set<number>();
const price = defineTool({
  name: 'price',
  description: 'Prices one line',
  input: z.object({ qty: z.number(), unit: z.number(), index: z.number() }),
  run: async ({ qty, unit, index }) => {
    running++;
    peak = Math.max(peak, running);
    calls.push(index);
    await new Promise((resolve) => setImmediate(resolve));
    running--;
    if (broken.has(index)) throw new Error(`line ${index} is broken`);
    if (flaky.delete(index)) throw new Error(`line ${index} failed once`);
    return { total: qty * unit };
  },
});
const note = defineTool({ name: 'note', description: 'Writes a note about a line', input: z.object({ text: z.string() }), run: (input) => input });
const tools = [price, note];

let dir: string | undefined;
let emu: Emulator | undefined;
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await emu?.close();
  emu = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  running = 0;
  peak = 0;
  calls.length = 0;
  broken.clear();
  flaky.clear();
});

async function engine(): Promise<Engine> {
  dir ??= mkdtempSync(join(tmpdir(), 'stepwise-map-'));
  emu ??= await startEmulator({ seed: 1 });
  const store = createSqliteStore({ path: join(dir, 'runs.db') });
  stores.push(store);
  return createEngine({ store, tools, model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS }, clock: new ManualClock({ autoAdvance: true }) });
}

const lines = (n: number) => Array.from({ length: n }, (_, i) => ({ qty: i + 1, unit: 10 }));
function mapDef(map: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return loadDefinitionFromObject(
    {
      id: 'lines',
      steps: {
        each: {
          map: {
            items: '{% $input.lines %}',
            as: 'line',
            context: { currency: '{% $input.currency %}' },
            maxConcurrency: 2,
            steps: { priced: { tool: 'price', with: { qty: '{% $input.line.qty %}', unit: '{% $input.line.unit %}', index: '{% $input.index %}' }, retry: { maxAttempts: 1 } } },
            ...map,
          },
          next: 'done',
          ...extra,
        },
        done: { final: true, output: '{% $steps.each.output %}' },
      },
    },
    tools,
    'lines',
  );
}

describe('map steps', () => {
  it('run each item as a child run, at most maxConcurrency at once, outputs in input order', async () => {
    const e = await engine();
    const run = await e.start(mapDef(), { input: { lines: lines(5), currency: 'EUR' } });
    expect(run.status).toBe('done');
    expect(run.output).toEqual([10, 20, 30, 40, 50].map((total) => ({ total })));
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBe(2);
    expect([...calls].sort()).toEqual([0, 1, 2, 3, 4]);
    const children = await e.store.list({ parentId: run.runId });
    expect(children).toHaveLength(5);
    const third = children.find((c) => c.options.parent?.index === 2)!;
    // The parent's journal links each item to its child run, in input order.
    const completed = (await e.journal(run.runId)).find((j) => j.step === 'each' && j.event === 'completed');
    expect((completed?.data as { children: string[] }).children[2]).toBe(third.id);
    expect(third.input).toEqual({ currency: 'EUR', line: { qty: 3, unit: 10 }, index: 2 });
    expect(third.workflow).toBe('lines.each');
    // No items: an empty output at once.
    expect((await e.start(mapDef(), { input: { lines: [], currency: 'EUR' } })).output).toEqual([]);
    // Not an array, or more than maxItems: the step fails with invalid_data.
    const tooMany = await e.start(mapDef({ maxItems: 3 }), { input: { lines: lines(4) } });
    expect(tooMany.failure).toMatchObject({ kind: 'invalid_data', step: 'each' });
    expect(tooMany.failure?.message).toContain('more than maxItems 3');
  });

  it('a body with a final step whose last-listed step flows out ends those items with that step\'s output', async () => {
    // As a parallel branch ends when its last step flows out, so does an item: the body need not end every route
    // with its own final step (an item that reached `last` once ended failed, with no failure and no journal entry).
    const e = await engine();
    const definition = mapDef({
      as: 'n',
      steps: {
        pick: { choice: [{ when: '{% $input.n = 1 %}', next: 'fin' }, { next: 'last' }] },
        fin: { final: true, output: 'one' },
        last: { tool: 'note', with: { text: 'two' } },
      },
    });
    const run = await e.start(definition, { input: { lines: [1, 2] } });
    expect(run.failure).toBeNull();
    expect(run.status).toBe('done');
    expect(run.output).toEqual(['one', { text: 'two' }]);
  });

  it('records failed items and fails the map past toleratedFailures (a count or a percentage)', async () => {
    const e = await engine();
    broken.add(1);
    const failed = await e.start(mapDef(), { input: { lines: lines(4) } });
    expect(failed.status).toBe('failed');
    expect(failed.failure?.step).toBe('each');
    expect(failed.failure?.message).toContain('1 of 4 items failed');
    const entry = (await e.journal(failed.runId)).find((j) => j.step === 'each' && j.event === 'failed');
    expect(entry?.data).toMatchObject({ failures: [{ index: 1, status: 'failed' }] });

    const counted = await e.start(mapDef({ toleratedFailures: 1 }), { input: { lines: lines(4) } });
    expect(counted.status).toBe('done');
    expect(counted.output).toEqual([{ total: 10 }, null, { total: 30 }, { total: 40 }]);
    expect((await e.start(mapDef({ toleratedFailures: '25%' }), { input: { lines: lines(4) } })).status).toBe('done');
    expect((await e.start(mapDef({ toleratedFailures: '20%' }), { input: { lines: lines(4) } })).status).toBe('failed');
    // onError takes the failed map elsewhere.
    const routed = await e.start(mapDef({}, { onError: 'done' }), { input: { lines: lines(2) } });
    expect(routed.status).toBe('done');
  });

  it('re-runs a failed item as a new child run up to retry.maxAttempts', async () => {
    const e = await engine();
    flaky.add(2);
    const run = await e.start(mapDef({ retry: { maxAttempts: 2 } }), { input: { lines: lines(3) } });
    expect(run.status).toBe('done');
    expect(run.output).toEqual([{ total: 10 }, { total: 20 }, { total: 30 }]);
    const item2 = (await e.store.list({ parentId: run.runId })).filter((c) => c.options.parent?.index === 2);
    expect(item2.map((c) => [c.options.parent?.attempt, c.status]).sort()).toEqual([
      [1, 'failed'],
      [2, 'done'],
    ]);
  });

  it('redrive re-runs only the failed items, keeps the others, and continues the run', async () => {
    const e = await engine();
    broken.add(1).add(3);
    const failed = await e.start(mapDef(), { input: { lines: lines(5) } });
    expect(failed.status).toBe('failed');
    expect([...calls].sort()).toEqual([0, 1, 2, 3, 4]);
    calls.length = 0;
    broken.clear();
    const redriven = await e.redrive(failed.runId);
    expect(redriven.status).toBe('done');
    expect(redriven.output).toEqual([10, 20, 30, 40, 50].map((total) => ({ total })));
    expect([...calls].sort()).toEqual([1, 3]);
    const journal = await e.journal(failed.runId);
    expect(journal.find((j) => j.event === 'resumed')?.data).toMatchObject({ redrive: true, items: [1, 3] });
    // Nothing to redrive in a run that did not fail in a map.
    await expect(e.redrive(failed.runId)).rejects.toThrow(/did not fail in a map step/);
  });

  it('stats counts a map run once, with what its items spent charged to it, not the items again as runs', async () => {
    const e = await engine();
    const body = { steps: { write: { claude: { tool: 'note', prompt: 'Write a note about this invoice line.', context: { line: '{% $input.line %}' }, maxTokens: 200 } } } };
    const run = await e.start(mapDef(body), { input: { lines: lines(3) } });
    expect(run.status).toBe('done');
    expect(run.usage.totalTokens).toBeGreaterThan(0);
    expect(await e.store.list({ parentId: run.runId })).toHaveLength(3);
    const stats = await runStats(e.store, { limit: 100 });
    expect(stats.runs).toBe(1);
    expect(stats.totalTokens).toBe(run.usage.totalTokens);
    expect(Object.keys(stats.workflows)).toEqual(['lines']);
    // With the items listed as runs too, their tokens are still counted once (they are the map run's).
    const withChildren = await runStats(e.store, { limit: 100, children: true });
    expect(withChildren.runs).toBe(4);
    expect(withChildren.totalTokens).toBe(run.usage.totalTokens);
    expect(withChildren.totalUsd).toBe(run.usage.usd);
  });

  it('redrive gives the failed items what the run has left of its budget, and a rerun through it counts every round', async () => {
    const e = await engine();
    broken.add(1);
    // Each item writes a note with the model (tokens), then prices its line (item 1 fails there).
    const body = {
      steps: {
        write: { claude: { tool: 'note', prompt: 'Write a note about this invoice line.', context: { line: '{% $input.line %}' }, maxTokens: 200 } },
        priced: { tool: 'price', with: { qty: '{% $input.line.qty %}', unit: '{% $input.line.unit %}', index: '{% $input.index %}' }, retry: { maxAttempts: 1 } },
      },
    };
    const probe = await e.start(mapDef(body), { input: { lines: lines(4) } });
    expect(probe.status).toBe('failed');
    const spent = probe.usage.totalTokens;
    expect(spent).toBeGreaterThan(0);
    // Twice what the first round spends: the run has about as much left as it spent (less its stopAt margin), far more
    // than one item needs; counting the items' spend twice would leave the redriven item nothing.
    const failed = await e.start(mapDef(body), { input: { lines: lines(4) }, budget: spent * 2 });
    expect(failed.status).toBe('failed');
    expect(failed.failure?.message).toContain('1 of 4 items failed');
    broken.clear();
    const redriven = await e.redrive(failed.runId);
    expect(redriven.status).toBe('done');
    const journal = await e.journal(failed.runId);
    expect(journal.reduce((t, j) => t + (j.usage?.totalTokens ?? 0), 0)).toBe(redriven.usage.totalTokens);
    const items = await e.store.list({ parentId: failed.runId });
    expect(items.reduce((t, c) => t + c.usage.totalTokens, 0)).toBe(redriven.usage.totalTokens);

    // A rerun from the final step replays both rounds of the map: the same usage.
    const again = await rerun(e, failed.runId, 'done');
    expect(again.status).toBe('done');
    expect(again.usage.totalTokens).toBe(redriven.usage.totalTokens);
  });

  it('runs the first item alone until its first model call, then fans out', async () => {
    const e = await engine();
    const commits: Array<{ runId: string; journal: readonly NewJournalEntry[]; tokens: number }> = [];
    e.subscribe((view, journal) => commits.push({ runId: view.runId, journal, tokens: view.usage.totalTokens }));
    const def = loadDefinitionFromObject(
      {
        id: 'notes',
        steps: {
          each: {
            map: {
              items: '{% $input.lines %}',
              maxConcurrency: 3,
              steps: { write: { claude: { tool: 'note', prompt: 'Write a note about this invoice line.', context: { line: '{% $input.item %}' } } } },
            },
          },
          done: { final: true, output: '{% $count($steps.each.output) %}' },
        },
      },
      tools,
      'notes',
    );
    const run = await e.start(def, { input: { lines: lines(4) } });
    expect(run.status).toBe('done');
    expect(run.output).toBe(4);
    const children = await e.store.list({ parentId: run.runId });
    const first = children.find((c) => c.options.parent?.index === 0)!.id;
    const warmAt = commits.findIndex((c) => c.runId === first && c.tokens > 0);
    const otherAt = commits.findIndex((c) => c.runId !== first && c.runId !== run.runId);
    expect(warmAt).toBeGreaterThanOrEqual(0);
    expect(otherAt).toBeGreaterThan(warmAt);
    // The parent is charged what its items spent.
    expect(run.usage.totalTokens).toBe(children.reduce((sum, c) => sum + c.usage.totalTokens, 0));
  });

  it("the workflow's cache setting reaches the items: with cache false no item writes or reads the shared prefix", async () => {
    const e = await engine();
    const policy = Array.from({ length: 1500 }, (_, i) => `pol${String.fromCharCode(97 + (i % 26))}`).join(' ');
    const def = (cache: boolean) =>
      loadDefinitionFromObject(
        {
          id: `shared-${cache}`,
          cache,
          steps: {
            each: {
              map: {
                items: '{% $input.lines %}',
                context: { policy: '{% $input.policy %}' },
                maxConcurrency: 3,
                steps: { write: { claude: { tool: 'note', prompt: 'Write a note on this line under the policy.', context: { policy: '{% $input.policy %}', line: '{% $input.item %}' }, shared: ['policy'] } } },
              },
            },
            done: { final: true, output: '{% $count($steps.each.output) %}' },
          },
        },
        tools,
        `shared-${cache}`,
      );
    const cached = await e.start(def(true), { input: { lines: lines(4), policy } });
    expect(cached.status).toBe('done');
    expect(cached.usage.cacheCreationInputTokens ?? 0).toBeGreaterThan(0);
    expect(cached.usage.cacheReadInputTokens ?? 0).toBeGreaterThan(0);
    const uncached = await e.start(def(false), { input: { lines: lines(4), policy: `${policy} v2` } });
    expect(uncached.status).toBe('done');
    expect(uncached.usage.cacheCreationInputTokens ?? 0).toBe(0);
    expect(uncached.usage.cacheReadInputTokens ?? 0).toBe(0);
  });

  it('items out of budget stop the map budget_exhausted; a resume with more budget resumes them and the map goes on', async () => {
    const e = await engine();
    const def = loadDefinitionFromObject(
      {
        id: 'poor-notes',
        steps: {
          each: { map: { items: '{% $input.lines %}', maxConcurrency: 2, steps: { write: { claude: { tool: 'note', prompt: 'Write a note about this invoice line.', context: { line: '{% $input.item %}' } } } } } },
          done: { final: true, output: '{% $count($steps.each.output) %}' },
        },
      },
      tools,
      'poor-notes',
    );
    const poor = await e.start(def, { input: { lines: lines(3) }, budget: 100 });
    expect(poor.status).toBe('budget_exhausted');
    expect(poor.failure?.kind).toBe('budget');
    const exhausted = await e.store.list({ parentId: poor.runId });
    expect(exhausted.map((c) => c.status)).toContain('budget_exhausted');
    const resumed = await e.resume(poor.runId, { budget: 50_000 });
    expect(resumed.status).toBe('done');
    expect(resumed.output).toBe(3);
    const children = await e.store.list({ parentId: poor.runId });
    // The same child runs went on: none was started again.
    expect(children.map((c) => c.id).sort()).toEqual(expect.arrayContaining(exhausted.map((c) => c.id)));
    expect(children.every((c) => c.status === 'done')).toBe(true);
    expect(resumed.usage.totalTokens).toBe(children.reduce((t, c) => t + c.usage.totalTokens, 0));
  });

  it('the journal of a map that stopped for budget after some items spent, then went on, sums to the run usage', async () => {
    const e = await engine();
    const def = loadDefinitionFromObject(
      {
        id: 'partly-poor-notes',
        budget: { tokens: 1200, stopAt: 0.9 },
        steps: {
          each: { map: { items: '{% $input.lines %}', maxConcurrency: 3, steps: { write: { claude: { tool: 'note', prompt: 'Write a note about this invoice line.', context: { line: '{% $input.item %}' }, maxTokens: 200 } } } } },
          done: { final: true, output: '{% $count($steps.each.output) %}' },
        },
      },
      tools,
      'partly-poor-notes',
    );
    const poor = await e.start(def, { input: { lines: lines(8) } });
    expect(poor.status).toBe('budget_exhausted');
    expect(poor.usage.totalTokens).toBeGreaterThan(0);
    const resumed = await e.resume(poor.runId, { budget: 50_000 });
    expect(resumed.status).toBe('done');
    // The map's journal entries (where it stopped, where it completed) each carry what that settling charged the
    // run, not the items' running total: `show` sums the journal to the run's usage.
    const totals = buildTimeline(await e.store.journal(poor.runId)).totals;
    expect({ inputTokens: totals.inputTokens, outputTokens: totals.outputTokens, usd: totals.usd }).toEqual({
      inputTokens: resumed.usage.inputTokens,
      outputTokens: resumed.usage.outputTokens,
      usd: resumed.usage.usd,
    });
  });

  it('a wait inside the items makes the parent wait; each event sent to the parent reaches a waiting item', async () => {
    const e = await engine();
    const def = loadDefinitionFromObject(
      {
        id: 'approvals',
        steps: {
          each: { map: { items: '{% $input.lines %}', steps: { ask: { wait: { on: { APPROVE: 'ok' } } }, ok: { final: true, output: '{% $input.item.qty %}' } } } },
          done: { final: true, output: '{% $steps.each.output %}' },
        },
      },
      tools,
      'approvals',
    );
    const run = await e.start(def, { input: { lines: lines(2) } });
    expect(run.status).toBe('waiting');
    expect((await e.send(run.runId, 'APPROVE')).status).toBe('waiting');
    const done = await e.send(run.runId, 'APPROVE');
    expect(done.status).toBe('done');
    expect(done.output).toEqual([1, 2]);
  });
});
