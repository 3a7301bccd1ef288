/**
 * The invoice-line-items example's per-line check is a partial tool input:
 * its `claude` step's `with:` takes the line's SKU from the item, so Claude
 * fills only the verdict. Through the real engine, SQLite, the SDK and the
 * emulator: the schema the model is sent has no `sku`, and every recorded
 * check carries its own line's SKU even when the model sends one of its own.
 */
import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinition } from '../../src/definition/load.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';
import { definitionPath, inputOf } from '../engine/helpers.js';

interface Tool {
  name: string;
  input_schema: { properties?: Record<string, unknown>; required?: string[] };
}

let dir: string;
let emu: Emulator;
let store: Store;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stepwise-line-items-'));
  emu = await startEmulator({ seed: 3 });
  store = createSqliteStore({ path: join(dir, 'runs.db') });
});
afterAll(async () => {
  await store.close();
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('invoice-line-items: the check fills only what the line does not say', () => {
  it('the model is not asked for the SKU, and each check records its own line\'s SKU, whatever the model sends', async () => {
    const bodies: Array<{ tools?: Tool[] }> = [];
    // A model that fills the SKU anyway, with one of its own: the application's value must win.
    const proxy: typeof fetch = async (input, init) => {
      if (typeof init?.body === 'string' && String(input).endsWith('/v1/messages')) bodies.push(JSON.parse(init.body) as { tools?: Tool[] });
      const response = await fetch(input, init);
      if (!response.ok) return response;
      const reply = (await response.json()) as { content: Array<{ type: string; input?: Record<string, unknown> }> };
      for (const block of reply.content) if (block.type === 'tool_use' && block.input) block.input = { ...block.input, sku: 'MODEL-MADE' };
      return new Response(JSON.stringify(reply), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const client = new Anthropic({ baseURL: emu.url, apiKey: 'x', maxRetries: 0, fetch: proxy });
    const engine = createEngine({ store, model: { client, timeoutMs: MODEL_TIMEOUT_MS }, clock: new ManualClock({ autoAdvance: true }) });
    const input = inputOf('invoice-line-items.yaml') as { lines: Array<{ sku: string }> };
    // The last line's SKU is not in the catalogue (one unknown line is tolerated): the others are checked.
    const checked = input.lines.slice(0, -1).map((l) => l.sku);

    const run = await engine.start(await loadDefinition(definitionPath('invoice-line-items.yaml')), { input });
    expect(run.status).toBe('done');

    const sent = bodies.flatMap((b) => b.tools ?? []).filter((t) => t.name === 'record_line_check');
    expect(sent).toHaveLength(checked.length);
    for (const tool of sent) {
      expect(Object.keys(tool.input_schema.properties ?? {}).sort()).toEqual(['ok', 'reason']);
      expect(tool.input_schema.required ?? []).not.toContain('sku');
    }
    const items = (await store.list({ parentId: run.runId })).filter((c) => c.status === 'done');
    const recorded: Array<[string, unknown]> = [];
    for (const item of items) {
      const check = (await store.journal(item.id)).find((j) => j.step === 'check' && j.event === 'completed');
      recorded.push([(item.input as { line: { sku: string } }).line.sku, (check?.output as { sku?: unknown } | undefined)?.sku]);
    }
    expect(recorded.map(([own]) => own).sort()).toEqual([...checked].sort());
    for (const [own, sku] of recorded) expect(sku).toBe(own);
  });
});
