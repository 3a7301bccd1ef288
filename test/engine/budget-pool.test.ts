/**
 * Budgets across concurrent steps: a `parallel` step of four branches, each
 * making model calls on the emulator through the real SDK, against a budget
 * too small for all of them. Every call reserves its projected tokens from the
 * run's pool before it is made, so across seeds the tokens the emulator billed
 * never pass stopAt × budget; the run ends `budget_exhausted`, and a resume
 * with a larger budget completes it. The pool's own rules (atomic reserve,
 * settle, release, slices) are checked directly too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator } from '../../src/emulator/index.js';
import { createBudgetPool } from '../../src/engine/budget-pool.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { resolveBudget } from '../../src/policy/budget.js';
import { zeroUsage, type JournalEntry } from '../../src/run/types.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { defineTool } from '../../src/tools/define.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-budget-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const note = defineTool({
  name: 'write_note',
  description: 'Write a short note about one check of an invoice.',
  input: z.object({ note: z.string(), risk: z.enum(['low', 'medium', 'high']) }),
  run: (input) => input,
});

/** The item indexes whose tool ran (one entry per completed call). */
const written: number[] = [];
const itemNote = defineTool({
  name: 'write_item_note',
  description: 'Write a short note about one line item of an invoice.',
  input: z.object({ note: z.string(), index: z.number() }),
  run: (input) => {
    written.push(input.index);
    return input;
  },
});

const mapDefinition = loadDefinitionFromObject(
  {
    id: 'fan-out-items',
    maxTokens: 120,
    budget: { tokens: 1500, stopAt: 0.8 },
    retry: { maxAttempts: 1 },
    steps: {
      lines: {
        map: {
          items: '{% $input.lines %}',
          maxConcurrency: 4,
          steps: { write: { claude: { tool: 'write_item_note', prompt: 'Write a note about this invoice line.', context: { line: '{% $input.item %}' }, with: { index: '{% $input.index %}' } } } },
        },
        next: 'done',
      },
      done: { final: true, output: '{% $steps.lines.output %}' },
    },
  },
  [itemNote],
  'fan-out-items',
);

const summarize = (id: string) =>
  loadDefinitionFromObject(
    {
      id,
      maxTokens: 120,
      retry: { maxAttempts: 1 },
      steps: {
        ...Object.fromEntries(
          [1, 2, 3, 4, 5, 6].map((i) => [`part_${i}`, { claude: { tool: 'write_item_note', prompt: `Summarize part ${i} of the invoice.`, context: { vendor: '{% $input.vendor %}' }, with: { index: i } }, next: i < 6 ? `part_${i + 1}` : 'done' }]),
        ),
        done: { final: true },
      },
    },
    [itemNote],
    id,
  );

const branch = (name: string) => ({
  steps: Object.fromEntries(
    [1, 2, 3].map((i) => [`${name}_${i}`, { claude: { tool: 'write_note', prompt: `Check ${name}, part ${i}.`, context: { vendor: '{% $input.vendor %}' } } }]),
  ),
});

const definition = loadDefinitionFromObject(
  {
    id: 'fan-out-budget',
    maxTokens: 120,
    budget: { tokens: 2500, stopAt: 0.8 },
    retry: { maxAttempts: 1 },
    steps: {
      checks: { parallel: { branches: { vendor: branch('vendor'), budget: branch('budget'), tax: branch('tax'), fraud: branch('fraud') } }, next: 'done' },
      done: { final: true, output: '{% $steps.checks.output %}' },
    },
  },
  [note],
  'fan-out-budget',
);

/** The highest spent + in-flight projected tokens over the journal: a call counts from its `started` to its end. */
function peakCommitted(journal: readonly JournalEntry[]): number {
  let spent = 0;
  let peak = 0;
  const inflight = new Map<string, number>();
  for (const e of journal) {
    const key = `${e.step}:${e.visit}:${e.attempt}`;
    const projected = (e.data as { projectedTokens?: number } | null | undefined)?.projectedTokens;
    if (e.event === 'started' && typeof projected === 'number') inflight.set(key, projected);
    if (e.event === 'completed' || e.event === 'failed' || e.event === 'budget_exhausted') {
      inflight.delete(key);
      spent += e.usage?.totalTokens ?? 0;
    }
    peak = Math.max(peak, spent + [...inflight.values()].reduce((a, b) => a + b, 0));
  }
  return peak;
}

describe('budget pool across parallel branches', () => {
  it('never bills past stopAt × budget however the four branches interleave; ends budget_exhausted; resumes with more', async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const emu = await startEmulator({ seed, faults: `latency=${20 + 5 * seed}` });
      const store = createSqliteStore({ path: join(dir, `seed-${seed}.db`) });
      try {
        const engine = createEngine({
          store,
          model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS },
          clock: new ManualClock({ autoAdvance: true }),
        });
        const run = await engine.start(definition, { input: { vendor: 'ACME GmbH' } });
        const billed = () => emu.stats().inputTokens + emu.stats().outputTokens;
        expect(run.status, `seed ${seed}`).toBe('budget_exhausted');
        expect(run.resumable).toBe(true);
        expect(billed(), `seed ${seed}`).toBeLessThanOrEqual(0.8 * 2500);
        expect(run.usage.totalTokens).toBe(billed());
        // More than one branch had a call in flight at once: the pool, not luck, kept the sum under the limit.
        const journal = await engine.journal(run.runId);
        const started = journal.filter((e) => e.event === 'started').map((e) => e.step);
        expect(new Set(started.map((s) => s?.split('_')[0])).size).toBeGreaterThan(1);
        expect(journal.some((e) => e.event === 'budget_exhausted')).toBe(true);
        // The pool's invariant, replayed from the journal: spent + projections of the calls in flight ≤ stopAt × budget.
        expect(peakCommitted(journal), `seed ${seed}`).toBeLessThanOrEqual(0.8 * 2500);

        const done = await engine.resume(run.runId, { budget: 20_000 });
        expect(done.status, `seed ${seed}`).toBe('done');
        expect(Object.keys(done.output as object).sort()).toEqual(['budget', 'fraud', 'tax', 'vendor']);
        expect(billed()).toBeLessThanOrEqual(0.8 * 20_000);
        expect(done.usage.totalTokens).toBe(billed());
        // No completed call was made again: one billed request per model step.
        expect(emu.stats().messages).toBe(12);
      } finally {
        await store.close();
        await emu.close();
      }
    }
  });

  it('a map of 8 items, 4 at once, never bills past stopAt × budget across parent and children; a resume re-runs no completed item', async () => {
    const lines = Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${i}`, qty: i + 1 }));
    for (const seed of [1, 2, 3, 4]) {
      written.length = 0;
      const emu = await startEmulator({ seed, faults: `latency=${20 + 5 * seed}` });
      const store = createSqliteStore({ path: join(dir, `map-seed-${seed}.db`) });
      try {
        const engine = createEngine({
          store,
          model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS },
          clock: new ManualClock({ autoAdvance: true }),
        });
        const run = await engine.start(mapDefinition, { input: { lines } });
        const billed = () => emu.stats().inputTokens + emu.stats().outputTokens;
        expect(run.status, `seed ${seed}`).toBe('budget_exhausted');
        expect(run.resumable).toBe(true);
        expect(billed(), `seed ${seed}`).toBeLessThanOrEqual(0.8 * 1500);
        expect(run.usage.totalTokens, `seed ${seed}`).toBe(billed());
        const children = await store.list({ parentId: run.runId });
        expect(children.reduce((t, c) => t + c.usage.totalTokens, 0)).toBe(billed());
        expect(children.some((c) => c.status === 'budget_exhausted')).toBe(true);
        const completed = children.filter((c) => c.status === 'done').length;
        expect(completed, `seed ${seed}`).toBeGreaterThan(0);
        expect(written.length).toBe(completed);

        const done = await engine.resume(run.runId, { budget: 20_000 });
        expect(done.status, `seed ${seed}`).toBe('done');
        expect((done.output as unknown[]).length).toBe(8);
        expect(done.usage.totalTokens).toBe(billed());
        // Each item's tool ran once, and one billed request per item: no completed item ran again.
        expect([...written].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        expect(emu.stats().messages).toBe(8);
      } finally {
        await store.close();
        await emu.close();
      }
    }
  });

  it('a workflow step with budget { tokens } gives the child a slice it never spends past', async () => {
    for (const seed of [1, 2, 3]) {
      written.length = 0;
      const emu = await startEmulator({ seed });
      const store = createSqliteStore({ path: join(dir, `slice-seed-${seed}.db`) });
      try {
        const engine = createEngine({
          store,
          workflows: [summarize('summarizer')],
          model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS },
          clock: new ManualClock({ autoAdvance: true }),
        });
        const parent = loadDefinitionFromObject(
          {
            id: 'sliced',
            budget: { tokens: 50_000 },
            steps: { sub: { workflow: { id: 'summarizer', input: { vendor: 'ACME GmbH' }, budget: { tokens: 700 } }, next: 'done' }, done: { final: true } },
          },
          [itemNote],
          'sliced',
        );
        const run = await engine.start(parent);
        const billed = emu.stats().inputTokens + emu.stats().outputTokens;
        expect(run.status, `seed ${seed}`).toBe('budget_exhausted');
        const [child] = await store.list({ parentId: run.runId });
        expect(child?.status).toBe('budget_exhausted');
        expect(child!.usage.totalTokens).toBe(billed);
        expect(billed, `seed ${seed}`).toBeLessThanOrEqual(700);
        expect(written.length).toBeGreaterThan(0);
        expect(run.usage.totalTokens).toBe(billed);
      } finally {
        await store.close();
        await emu.close();
      }
    }
  });

  it('reserves atomically, settles to actual usage, releases, and slices', () => {
    let used = { ...zeroUsage };
    const pool = createBudgetPool({ budget: () => resolveBudget({ tokens: 1000, stopAt: 0.5 }), spent: () => used });
    const a = pool.reserve(300)!;
    expect(a).not.toBeNull();
    expect(pool.reserve(201)).toBeNull(); // 300 + 201 > 500
    expect(pool.refusal(201)).toMatch(/counting 300 tokens reserved by calls in flight/);
    const b = pool.reserve(200)!;
    expect(pool.outstanding()).toEqual({ tokens: 500, usd: 0 });
    used = { ...used, totalTokens: 120 }; // a's call used 120 and the run was charged
    a.settle({ totalTokens: 120, usd: 0 });
    expect(pool.outstanding().tokens).toBe(200);
    expect(pool.reserve(180)).not.toBeNull(); // 120 + 200 + 180 = 500
    b.release();
    b.settle({ totalTokens: 999, usd: 0 }); // already ended: nothing happens
    expect(pool.outstanding().tokens).toBe(180);

    // A slice is reserved in its parent whole and up front; its spending moves from that reservation to the parent's spent.
    expect(pool.slice(321)).toBeNull(); // 120 + 180 + 321 > 500
    const slice = pool.slice(150)!;
    expect(pool.outstanding().tokens).toBe(330);
    expect(slice.reserve(151)).toBeNull();
    const c = slice.reserve(150)!;
    expect(pool.outstanding().tokens).toBe(330); // not twice
    c.settle({ totalTokens: 100, usd: 0 });
    expect(slice.spent()).toEqual({ tokens: 100, usd: 0 });
    expect(slice.reserve(60)).toBeNull(); // 100 + 60 > 150
    expect(pool.outstanding().tokens).toBe(230); // 180 + what the slice still holds
    expect(pool.spent().tokens).toBe(220); // the run's 120 + the slice's 100, not yet in the run's usage
    used = { ...used, totalTokens: 220 }; // the run charged its child
    pool.book({ totalTokens: 100, usd: 0 });
    expect(pool.spent().tokens).toBe(220); // counted once
    slice.close();
    expect(pool.outstanding().tokens).toBe(180);

    // A shared child's pool: its own limit, and every reservation also in the parent, whose spent sees what it settles.
    let childUsed = { ...zeroUsage };
    const child = pool.share({ budget: () => resolveBudget({ tokens: 10_000, stopAt: 1 }), spent: () => childUsed });
    expect(child.reserve(101)).toBeNull(); // 220 + 180 + 101 > 500 in the parent
    const d = child.reserve(100)!;
    expect(pool.outstanding().tokens).toBe(280);
    childUsed = { ...childUsed, totalTokens: 40 };
    d.settle({ totalTokens: 40, usd: 0 });
    expect(child.spent().tokens).toBe(40);
    expect(pool.spent().tokens).toBe(260);
    expect(pool.outstanding().tokens).toBe(180);
  });

  it('raises a reservation made on an estimate when its family learns a higher ratio; extends one only within the limit', () => {
    const used = { ...zeroUsage };
    const pool = createBudgetPool({ budget: () => resolveBudget({ tokens: 1000, stopAt: 1 }), spent: () => used });
    const item = pool.share({ budget: () => resolveBudget({ tokens: 1000, stopAt: 1 }), spent: () => zeroUsage });
    const sibling = pool.share({ budget: () => resolveBudget({ tokens: 1000, stopAt: 1 }), spent: () => zeroUsage });
    expect(item.calibration()).toBeUndefined();
    expect(item.guessing()).toBe(false);
    // An item's call reserved on its local estimate (input 100 + output 200) before any ratio was known.
    const estimate = { calibration: undefined, at: (c: { billedInput: number; estimatedInput: number }) => ({ tokens: Math.ceil((100 * c.billedInput) / c.estimatedInput) + 200, usd: 0 }) };
    const guess = item.reserve(300, 0, estimate)!;
    expect(sibling.guessing()).toBe(true); // seen across the family
    // Its sibling's count shows the server counting 3×: every run of the family projects at it, and the guess is raised.
    sibling.learn(360, 120);
    expect(pool.calibration()).toEqual({ billedInput: 360, estimatedInput: 120 });
    expect(sibling.guessing()).toBe(false);
    expect(guess.tokens).toBe(500);
    expect(pool.outstanding().tokens).toBe(500); // in the parent too
    expect(sibling.reserve(501)).toBeNull();
    // A lower ratio learned later leaves it as it is.
    sibling.learn(100, 100);
    expect(guess.tokens).toBe(500);
    // A continuation extends it only as far as the limit allows, counting the calls beside it.
    const other = sibling.reserve(400)!;
    expect(guess.extend(101, 0)).toMatch(/past 1000/);
    expect(guess.tokens).toBe(500);
    expect(guess.extend(100, 0)).toBeNull();
    expect(pool.outstanding().tokens).toBe(1000);
    // `within`: whether a call fits under a fraction of the limit, in this pool and every pool above it.
    other.release();
    expect(sibling.refusal(250, 0, 0.85)).toBeNull(); // the parent holds 600: 600 + 250 ≤ 85 % of 1000
    expect(sibling.refusal(251, 0, 0.85)).toMatch(/past 850/);
    expect(sibling.refusal(251)).toBeNull();
    guess.settle({ totalTokens: 420, usd: 0 });
    expect(pool.outstanding().tokens).toBe(0);
  });
});
