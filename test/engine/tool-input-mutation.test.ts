/**
 * A tool that changes its input in place (normalising it, zeroing an amount) changes neither the journal's record of
 * what was sent (the input Claude gave, the `with` mapping's value) nor the run's data: the step results a `with`
 * mapping handed over by reference stay as they were. Found by outside testing: the journal showed the tool's edits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

function engineWith(tools: AnyTool[], emu?: Emulator) {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-mutate-'));
  const store = createSqliteStore({ path: join(dir, 'runs.db') });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
  const model = emu ? { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS } : { baseURL: 'http://127.0.0.1:9', apiKey: 'x' };
  return { store, engine: createEngine({ store, tools, clock: new ManualClock({ autoAdvance: true }), model }) };
}

/** What a tool got, as JSON text taken on entry, before it changed anything. */
const seen: string[] = [];
afterEach(() => void seen.splice(0));

const charge = defineTool({
  name: 'charge',
  description: 'Charge an amount',
  input: z.object({ amount: z.number(), meta: z.object({ note: z.string() }), order: z.any() }),
  run: (input) => {
    seen.push(JSON.stringify(input));
    input.amount = 0;
    input.meta.note = 'overwritten';
    (input.order as { lines: Array<{ qty: number }> }).lines[0]!.qty = 999;
    (input.order as Record<string, unknown>).injected = 'by the tool';
    return { charged: true };
  },
}) as unknown as AnyTool;

const makeOrder = defineTool({
  name: 'make_order',
  description: 'Make an order',
  input: z.object({}),
  run: () => ({ id: 'O-1', lines: [{ sku: 'A', qty: 3 }] }),
}) as unknown as AnyTool;

describe('a tool that changes its input', () => {
  it('in a tool step: the journal keeps what the with mapping gave, and the step results it came from stay unchanged', async () => {
    const { engine, store } = engineWith([makeOrder, charge]);
    const def = loadDefinitionFromObject(
      {
        id: 'mutate',
        steps: {
          order: { tool: 'make_order' },
          pay: { tool: 'charge', with: { amount: 42, meta: { note: 'original' }, order: '{% $steps.order.output %}' } },
          done: { final: true, output: { order: '{% $steps.order.output %}' } },
        },
      },
      [makeOrder, charge],
      'mutate',
    );
    const run = await engine.start(def);
    expect(run.status).toBe('done');
    const given = { amount: 42, meta: { note: 'original' }, order: { id: 'O-1', lines: [{ sku: 'A', qty: 3 }] } };
    expect(seen.map((text) => JSON.parse(text))).toEqual([given]);
    const pay = (await engine.journal(run.runId)).find((e) => e.step === 'pay' && e.event === 'completed');
    expect(pay?.input).toEqual(given);
    // The order step's result, which the mapping handed over, is what the order tool returned.
    expect(run.output).toEqual({ order: { id: 'O-1', lines: [{ sku: 'A', qty: 3 }] } });
    const stored = await store.get(run.runId);
    expect(JSON.stringify(stored?.snapshot)).not.toContain('by the tool');
    expect(JSON.stringify(stored?.snapshot)).not.toContain('999');
  });

  it('in a claude step: the journal keeps the input Claude gave', async () => {
    const emu = await startEmulator({ seed: 1 });
    cleanups.push(() => emu.close());
    const fill = defineTool({
      name: 'fill',
      description: 'Record the extracted order.',
      input: z.object({ name: z.string(), order: z.object({ qty: z.number() }) }),
      run: (input) => {
        seen.push(JSON.stringify(input));
        input.name = 'CHANGED BY THE TOOL';
        input.order.qty = 999;
        (input as Record<string, unknown>).internalToken = 'added-by-tool';
        return { saved: true };
      },
    }) as unknown as AnyTool;
    const { engine } = engineWith([fill], emu);
    const def = loadDefinitionFromObject(
      { id: 'mutate-claude', steps: { extract: { claude: { tool: 'fill', prompt: 'Extract the order.', maxTokens: 300 } }, done: { final: true } } },
      [fill],
      'mutate-claude',
    );
    const run = await engine.start(def);
    expect(run.status).toBe('done');
    expect(seen).toHaveLength(1);
    const extract = (await engine.journal(run.runId)).find((e) => e.step === 'extract' && e.event === 'completed');
    expect(extract?.input).toEqual(JSON.parse(seen[0]!));
    expect(JSON.stringify(extract?.input)).not.toContain('added-by-tool');
  });

  it('in a reviewed claude step: the approved input kept in the run stays as approved, in the snapshot and the journal', async () => {
    const emu = await startEmulator({ seed: 1 });
    cleanups.push(() => emu.close());
    const book = defineTool({
      name: 'book',
      description: 'Book the order.',
      input: z.object({ name: z.string(), details: z.any() }),
      run: (input) => {
        seen.push(JSON.stringify(input));
        (input.details as { qty: number }).qty = 999;
        (input.details as Record<string, unknown>).injected = 'by the tool';
        return { booked: true };
      },
    }) as unknown as AnyTool;
    const { engine, store } = engineWith([book], emu);
    const def = loadDefinitionFromObject(
      { id: 'mutate-review', steps: { order: { claude: { tool: 'book', prompt: 'Book the order.', maxTokens: 300 }, review: true }, done: { final: true } } },
      [book],
      'mutate-review',
    );
    const waiting = await engine.start(def);
    expect(waiting.status).toBe('waiting');
    const approved = { name: 'Alice', details: { qty: 3 } };
    const run = await engine.send(waiting.runId, 'APPROVE', { input: structuredClone(approved) });
    expect(run.status).toBe('done');
    expect(seen.map((text) => JSON.parse(text))).toEqual([approved]);
    const order = (await engine.journal(run.runId)).find((e) => e.step === 'order' && e.event === 'completed');
    expect(order?.input).toEqual(approved);
    const snapshot = JSON.stringify((await store.get(run.runId))?.snapshot);
    expect(snapshot).toContain('"qty":3');
    expect(snapshot).not.toContain('by the tool');
  });
});
