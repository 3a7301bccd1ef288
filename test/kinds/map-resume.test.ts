/**
 * `resume` of a run whose `map` step failed because items failed (found by an outside tester: the run said
 * `resumable: true`, but a resume journaled `resumed` and the same `failed` and ran no item). A resume resumes each
 * failed item where a resume may help, as it resumes a `workflow` step's failed child: the same child run goes on from
 * its failed step (its finished steps do not run again), the items that succeeded keep their outputs, and each
 * failed item is resumed once per resume, not again when it fails again while other items still run. Real engine,
 * real SQLite file, the emulator for the body's model call, a ManualClock.
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
import { buildTimeline } from '../../src/observe/timeline.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

/** Indexes whose `price` call throws. */
const broken = new Set<number>();
const calls = { stamp: [] as number[], price: [] as number[] };
const stamp = defineTool({ name: 'stamp', description: 'Stamps a line', input: z.object({ index: z.number() }), run: ({ index }) => (calls.stamp.push(index), { index }) });
const price = defineTool({
  name: 'price',
  description: 'Prices a line',
  input: z.object({ index: z.number() }),
  run: ({ index }) => {
    calls.price.push(index);
    if (broken.has(index)) throw new Error(`line ${index} is broken`);
    return { total: (index + 1) * 10 };
  },
});
const note = defineTool({ name: 'note', description: 'Writes a note about a line', input: z.object({ text: z.string() }), run: (input) => input });
const tools = [stamp, price, note];

let dir: string | undefined;
let emu: Emulator | undefined;
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await emu?.close();
  emu = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  broken.clear();
  calls.stamp.length = 0;
  calls.price.length = 0;
});

async function engine(): Promise<Engine> {
  dir ??= mkdtempSync(join(tmpdir(), 'stepwise-map-resume-'));
  emu ??= await startEmulator({ seed: 1 });
  const store = createSqliteStore({ path: join(dir, 'runs.db') });
  stores.push(store);
  return createEngine({ store, tools, model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS }, clock: new ManualClock({ autoAdvance: true }) });
}

const withIndex = { index: '{% $input.index %}' };
function mapDef(body: Record<string, unknown>) {
  return loadDefinitionFromObject(
    {
      id: 'resumed-lines',
      retry: { maxAttempts: 1 },
      steps: {
        each: { map: { items: '{% $input.lines %}', maxConcurrency: 2, steps: body }, next: 'done' },
        done: { final: true, output: '{% $steps.each.output %}' },
      },
    },
    tools,
    'resumed-lines',
  );
}

/** The journal's usage summed, beside the run's. */
async function journalSum(e: Engine, runId: string) {
  const totals = buildTimeline(await e.store.journal(runId)).totals;
  return { inputTokens: totals.inputTokens, outputTokens: totals.outputTokens };
}

describe('resume of a map failed by its items', () => {
  it('resumes the failed items where they failed, keeps the others, and the run goes on', async () => {
    const e = await engine();
    const def = mapDef({
      write: { claude: { tool: 'note', prompt: 'Write a note about this line.', context: { line: '{% $input.item %}' }, maxTokens: 200 } },
      stamped: { tool: 'stamp', with: withIndex },
      priced: { tool: 'price', with: withIndex },
    });
    broken.add(1);
    const failed = await e.start(def, { input: { lines: ['a', 'b', 'c'] } });
    expect(failed.status).toBe('failed');
    expect(failed.failure?.message).toContain('1 of 3 items failed');
    expect(failed.resumable).toBe(true);
    const before = await e.store.list({ parentId: failed.runId });
    expect(before).toHaveLength(3);
    const modelCalls = emu!.stats().messages;

    broken.clear();
    calls.stamp.length = 0;
    calls.price.length = 0;
    const resumed = await e.resume(failed.runId);
    expect(resumed.status).toBe('done');
    expect(resumed.output).toEqual([{ total: 10 }, { total: 20 }, { total: 30 }]);
    // Only the failed item's failed step ran again: not its model call or its stamp, nor any other item.
    expect(calls).toEqual({ stamp: [], price: [1] });
    expect(emu!.stats().messages).toBe(modelCalls);
    // The same child runs: the failed one went on, none was started again.
    const after = await e.store.list({ parentId: failed.runId });
    expect(after.map((c) => c.id).sort()).toEqual(before.map((c) => c.id).sort());
    expect(after.every((c) => c.status === 'done')).toBe(true);
    const item = after.find((c) => c.options.parent?.index === 1)!;
    expect((await e.store.journal(item.id)).filter((j) => j.event === 'resumed')).toHaveLength(1);
    expect(resumed.usage.totalTokens).toBe(after.reduce((t, c) => t + c.usage.totalTokens, 0));
    expect(await journalSum(e, failed.runId)).toEqual({ inputTokens: resumed.usage.inputTokens, outputTokens: resumed.usage.outputTokens });
  });

  it('resumes a failed item once per resume, not again when it fails again while another item still runs', async () => {
    const e = await engine();
    // Every item that prices then waits for GO: the map rests, and the event drives it again (another effect).
    const def = mapDef({
      priced: { tool: 'price', with: withIndex },
      hold: { wait: { on: { GO: 'end' } } },
      end: { final: true, output: '{% $steps.priced.output %}' },
    });
    broken.add(1).add(2);
    const waiting = await e.start(def, { input: { lines: ['a', 'b', 'c'] } });
    expect(waiting.status).toBe('waiting');
    const failed = await e.send(waiting.runId, 'GO');
    expect(failed.status).toBe('failed');
    expect(failed.failure?.message).toContain('2 of 3 items failed');

    // Item 2 is mended, item 1 still fails: the resume leaves item 2 waiting, and item 1 failed again.
    broken.delete(2);
    calls.price.length = 0;
    const resumed = await e.resume(failed.runId);
    expect(resumed.status).toBe('waiting');
    expect(calls.price.sort()).toEqual([1, 2]);
    // Driven again by the event, the map does not resume item 1 again: it fails with it.
    const again = await e.send(failed.runId, 'GO');
    expect(again.status).toBe('failed');
    expect(again.failure?.message).toContain('1 of 3 items failed');
    expect(calls.price.sort()).toEqual([1, 2]);
    // A later resume resumes it once more.
    broken.clear();
    calls.price.length = 0;
    expect((await e.resume(failed.runId)).status).toBe('waiting');
    const done = await e.send(failed.runId, 'GO');
    expect(done.status).toBe('done');
    expect(done.output).toEqual([{ total: 10 }, { total: 20 }, { total: 30 }]);
    expect(calls.price).toEqual([1]);
    expect(await journalSum(e, failed.runId)).toEqual({ inputTokens: done.usage.inputTokens, outputTokens: done.usage.outputTokens });
  });

  it('a redrive still starts the failed items as new runs, and does not resume an item that fails again in it', async () => {
    const e = await engine();
    const def = mapDef({
      priced: { tool: 'price', with: withIndex },
      hold: { wait: { on: { GO: 'end' } } },
      end: { final: true, output: '{% $steps.priced.output %}' },
    });
    broken.add(1).add(2);
    const failed = await e.send((await e.start(def, { input: { lines: ['a', 'b', 'c'] } })).runId, 'GO');
    expect(failed.status).toBe('failed');
    broken.delete(2);
    calls.price.length = 0;
    expect((await e.redrive(failed.runId)).status).toBe('waiting');
    const redriven = await e.send(failed.runId, 'GO');
    expect(redriven.status).toBe('failed');
    expect(redriven.failure?.message).toContain('1 of 3 items failed');
    expect(calls.price.sort()).toEqual([1, 2]);
    const rounds = (await e.store.list({ parentId: failed.runId })).map((c) => [c.options.parent?.index, c.options.parent?.round ?? 0, c.status]);
    expect(rounds.sort()).toEqual([
      [0, 0, 'done'],
      [1, 0, 'failed'],
      [1, 1, 'failed'],
      [2, 0, 'failed'],
      [2, 1, 'done'],
    ]);
  });
});
