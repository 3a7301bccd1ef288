/**
 * A run's journal sums to its usage at every point (found by outside testing): a rerun's journal carries what the
 * steps it kept spent, and a `map` or `workflow` step whose children rest at a wait after spending journals what it
 * was charged for them then, not only when it settles (and nothing twice when it does). What `show` (the timeline's
 * totals), `stats` and the run's usage report agree. Real engine on a real SQLite file, the emulator, a manual clock.
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
import type { RunView } from '../../src/engine/view.js';
import { buildTimeline } from '../../src/observe/timeline.js';
import { runStats } from '../../src/query/stats.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

const note = defineTool({ name: 'note', description: 'Writes a note about a line', input: z.object({ text: z.string() }), run: (input) => input });
const tools = [note];

/** A model step writing a note about `what`. */
const write = (what: string) => ({ claude: { tool: 'note', prompt: `Write a note about ${what}.`, context: { about: `{% $input %}` }, maxTokens: 200 } });

/** Asks a person, then ends with what the note step wrote. */
const askedDef = loadDefinitionFromObject(
  { id: 'asked', steps: { draft: write('this case'), ask: { wait: { on: { APPROVE: 'ok' } } }, ok: { final: true, output: '{% $steps.draft.output %}' } } },
  tools,
  'asked',
);

let dir: string | undefined;
let emu: Emulator | undefined;
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await emu?.close();
  emu = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function engine(): Promise<Engine> {
  dir ??= mkdtempSync(join(tmpdir(), 'stepwise-journal-usage-'));
  emu ??= await startEmulator({ seed: 1 });
  const store = createSqliteStore({ path: join(dir, 'runs.db') });
  stores.push(store);
  return createEngine({
    store,
    tools,
    workflows: [askedDef],
    model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS },
    clock: new ManualClock({ autoAdvance: true }),
  });
}

/** The run's usage, its journal's sum and `show`'s totals (from the same journal) agree, in tokens and dollars. */
async function expectJournalSums(e: Engine, run: RunView): Promise<void> {
  const journal = await e.journal(run.runId);
  const sum = journal.reduce((t, j) => ({ tokens: t.tokens + (j.usage?.totalTokens ?? 0), usd: t.usd + (j.usage?.usd ?? 0) }), { tokens: 0, usd: 0 });
  expect(sum.tokens, `journal of ${run.runId} (${run.status})`).toBe(run.usage.totalTokens);
  expect(sum.usd).toBeCloseTo(run.usage.usd, 9);
  const totals = buildTimeline(journal).totals;
  expect({ inputTokens: totals.inputTokens, outputTokens: totals.outputTokens }).toEqual({ inputTokens: run.usage.inputTokens, outputTokens: run.usage.outputTokens });
}

describe('a rerun journals the usage of the steps it kept', () => {
  const def = loadDefinitionFromObject({ id: 'two-notes', steps: { first: write('the order'), second: write('the invoice'), done: { final: true } } }, tools, 'two-notes');

  it('its journal sums to its usage, which counts the kept steps; a rerun of the rerun too', async () => {
    const e = await engine();
    const original = await e.start(def, { input: { order: 7 } });
    expect(original.status).toBe('done');
    await expectJournalSums(e, original);

    const again = await rerun(e, original.runId, 'second');
    expect(again.status).toBe('done');
    // It kept `first`, whose spend counts against its budget, and ran `second` again: its first entry carries what
    // `first` spent in the original.
    const first = (await e.journal(original.runId)).find((j) => j.step === 'first' && j.event === 'completed')!;
    const created = (await e.journal(again.runId))[0]!;
    expect(created).toMatchObject({ event: 'created', data: { rerunOf: original.runId, from: 'second', kept: ['first'] }, usage: first.usage });
    expect(again.usage.totalTokens).toBeGreaterThan(first.usage!.totalTokens);
    await expectJournalSums(e, again);

    // A rerun of the rerun keeps both steps: everything it counts is in its first entry.
    const third = await rerun(e, again.runId, 'done');
    expect(third.usage).toEqual(again.usage);
    expect((await e.journal(third.runId))[0]!.usage).toEqual(again.usage);
    await expectJournalSums(e, third);
  });
});

describe("a step whose children rest at a wait journals what it was charged for them", () => {
  it('a map whose items spent, then wait: the journal sums to the usage while they wait and once the map is done', async () => {
    const e = await engine();
    const def = loadDefinitionFromObject(
      {
        id: 'noted-lines',
        steps: {
          each: { map: { items: '{% $input.lines %}', steps: { draft: write('this line'), ask: { wait: { on: { APPROVE: 'ok' } } }, ok: { final: true, output: '{% $steps.draft.output %}' } } } },
          done: { final: true, output: '{% $count($steps.each.output) %}' },
        },
      },
      tools,
      'noted-lines',
    );
    const waiting = await e.start(def, { input: { lines: [1, 2] } });
    expect(waiting.status).toBe('waiting');
    const items = await e.store.list({ parentId: waiting.runId });
    const spent = items.reduce((t, c) => t + c.usage.totalTokens, 0);
    expect(spent).toBeGreaterThan(0);
    // The run is charged what its items spent while they wait (the budget counts it)…
    expect(waiting.usage.totalTokens).toBe(spent);
    // …and its journal, `show` and `stats` say the same.
    await expectJournalSums(e, waiting);
    expect((await runStats(e.store, { limit: 100 })).totalTokens).toBe(waiting.usage.totalTokens);

    const half = await e.send(waiting.runId, 'APPROVE');
    expect(half.status).toBe('waiting');
    await expectJournalSums(e, half);
    const done = await e.send(waiting.runId, 'APPROVE');
    expect(done.status).toBe('done');
    expect(done.usage.totalTokens).toBe(spent);
    await expectJournalSums(e, done);
  });

  it('a workflow step whose child spent, then waits: the same, while it waits and once the child is done', async () => {
    const e = await engine();
    const def = loadDefinitionFromObject(
      { id: 'asks-child', steps: { child: { workflow: { id: 'asked', input: '{% $input %}' } }, done: { final: true, output: '{% $steps.child.output %}' } } },
      tools,
      'asks-child',
    );
    const waiting = await e.start(def, { input: { case: 3 } });
    expect(waiting.status).toBe('waiting');
    const [child] = await e.store.list({ parentId: waiting.runId });
    expect(child!.usage.totalTokens).toBeGreaterThan(0);
    expect(waiting.usage.totalTokens).toBe(child!.usage.totalTokens);
    await expectJournalSums(e, waiting);

    const done = await e.send(waiting.runId, 'APPROVE');
    expect(done.status).toBe('done');
    expect(done.usage.totalTokens).toBe(child!.usage.totalTokens);
    await expectJournalSums(e, done);
    // A rerun past the step replays its settling: the same usage, and its own journal sums to it.
    const again = await rerun(e, waiting.runId, 'done');
    expect(again.usage.totalTokens).toBe(done.usage.totalTokens);
    await expectJournalSums(e, again);
  });
});
