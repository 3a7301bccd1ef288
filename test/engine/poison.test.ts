/**
 * Poison outputs: a tool (or model) that hands back what no store can keep —
 * a BigInt, a cycle, a function, a string past the size cap — fails its step
 * as `invalid_output`, journaled and resumable, through the real engine on a
 * real SQLite file. The run never stays `running`, and neither a worker nor a
 * second engine runs the tool again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type EngineOptions } from '../../src/engine/engine.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

function sqliteFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-poison-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'runs.db');
}

function openStore(file: string): Store {
  const store = createSqliteStore({ path: file });
  cleanups.push(() => store.close());
  return store;
}

async function emulator(): Promise<Emulator> {
  const emu = await startEmulator({ seed: 1 });
  cleanups.push(() => emu.close());
  return emu;
}

/** A `pay` tool that returns `value` and counts its calls (the payments a poison run used to repeat). */
function payTool(value: () => unknown) {
  let calls = 0;
  const tool = defineTool({
    name: 'pay',
    description: 'Pay the order.',
    input: z.object({ order: z.string() }),
    run: async () => {
      calls++;
      return value();
    },
  });
  return { tool: tool as unknown as AnyTool, calls: () => calls };
}

const payWorkflow = (extra: Record<string, unknown> = {}) => ({
  id: 'poison',
  retry: { maxAttempts: 3, backoff: { initial: '1s', jitter: 0 } },
  steps: {
    pay: { tool: 'pay', with: { order: 'A-1' }, ...extra },
    done: { final: true, output: { paid: '{% $steps.pay.output %}' } },
  },
});

function engineOn(store: Store, options: Partial<EngineOptions> = {}) {
  return createEngine({ store, clock: new ManualClock({ autoAdvance: true }), model: { apiKey: 'unused' }, ...options });
}

const circular = () => {
  const node: Record<string, unknown> = { id: 1 };
  node['self'] = node;
  return { node };
};

describe('poison outputs fail the step as invalid_output', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['a BigInt', () => ({ amount: 10n }), /\$\.amount is a BigInt/],
    ['a cycle', circular, /\$\.node\.self refers back to itself/],
    ['a function', () => ({ receipt: 'r-1', refund: () => 'oops' }), /\$\.refund is a function/],
    ['a Map', () => ({ lines: new Map([['a', 1]]) }), /\$\.lines is a Map/],
    ['a string past the cap', () => ({ pdf: 'x'.repeat(5000) }), /larger than the limit of 2048 bytes/],
  ];

  for (const [name, value, message] of cases) {
    it(`${name}: failed, journaled, resumable; the tool is not run again by a worker or another engine`, async () => {
      const file = sqliteFile();
      const pay = payTool(value);
      const engine = engineOn(openStore(file), { maxOutputBytes: 2048 });
      const run = await engine.start(loadDefinitionFromObject(payWorkflow(), [pay.tool], 'poison.test'));

      expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'invalid_output', step: 'pay' } });
      expect(run.failure?.message).toMatch(message);
      expect(run.failure?.message).toMatch(/the output of step "pay" cannot be stored/);
      expect(pay.calls()).toBe(1);
      const failed = (await engine.journal(run.runId)).filter((e) => e.event === 'failed');
      expect(failed).toEqual([expect.objectContaining({ step: 'pay', attempt: 1, error: expect.objectContaining({ kind: 'invalid_output' }) })]);

      // Recovery never repeats the side effect: a worker on another connection finds nothing to do.
      const other = engineOn(openStore(file), { tools: [pay.tool] });
      const summary = await other.work({ exitWhenIdle: true, pollMs: 5 });
      expect(summary.claimed).toBe(0);
      expect(pay.calls()).toBe(1);
      expect((await other.get(run.runId)).status).toBe('failed');
    });
  }

  it('the default cap is 4 MiB: a 5 MB output fails, a 1 MB one is stored', async () => {
    const size = { n: 5_000_000 };
    const pay = payTool(() => ({ blob: 'y'.repeat(size.n) }));
    const engine = engineOn(openStore(sqliteFile()));
    const big = await engine.start(loadDefinitionFromObject(payWorkflow(), [pay.tool], 'poison.test'));
    expect(big).toMatchObject({ status: 'failed', failure: { kind: 'invalid_output' } });
    expect(big.failure?.message).toMatch(/larger than the limit of 4194304 bytes/);
    size.n = 1_000_000;
    const ok = await engine.start(loadDefinitionFromObject(payWorkflow(), [pay.tool], 'poison.test'));
    expect(ok.status).toBe('done');
    const completed = (await engine.journal(ok.runId)).find((e) => e.event === 'completed');
    expect((completed?.output as { blob: string }).blob).toHaveLength(1_000_000);
  });

  it('a resume runs the step again, and succeeds once the tool behaves', async () => {
    let poison = true;
    const pay = payTool(() => (poison ? { amount: 10n } : { amount: '10' }));
    const engine = engineOn(openStore(sqliteFile()));
    const run = await engine.start(loadDefinitionFromObject(payWorkflow(), [pay.tool], 'poison.test'));
    expect(run.failure?.kind).toBe('invalid_output');
    poison = false;
    const resumed = await engine.resume(run.runId);
    expect(resumed).toMatchObject({ status: 'done', output: { paid: { amount: '10' } } });
    expect(pay.calls()).toBe(2);
  });

  it('takes the step\'s onError route like any failure, with the kind in $steps.<id>.error', async () => {
    const pay = payTool(() => ({ amount: 10n }));
    const workflow = {
      ...payWorkflow({ onError: 'handle' }),
      steps: {
        ...payWorkflow({ onError: 'handle' }).steps,
        handle: { final: true, output: { error: '{% $steps.pay.error.kind %}' } },
      },
    };
    const run = await engineOn(openStore(sqliteFile())).start(loadDefinitionFromObject(workflow, [pay.tool], 'poison.test'));
    expect(run).toMatchObject({ status: 'done', output: { error: 'invalid_output' } });
  });

  it('stores a JSON copy: a Date becomes its ISO string, undefined fields are left out', async () => {
    const at = new Date(Date.UTC(2026, 0, 2));
    const pay = payTool(() => ({ at, note: undefined, list: [1, undefined] }));
    const engine = engineOn(openStore(sqliteFile()));
    const run = await engine.start(loadDefinitionFromObject(payWorkflow(), [pay.tool], 'poison.test'));
    expect(run.output).toEqual({ paid: { at: at.toISOString(), list: [1, null] } });
  });

  it('a model reply past the cap fails a claude step before its tool runs', async () => {
    const emu = await emulator();
    let calls = 0;
    const note = defineTool({
      name: 'record_note',
      description: 'Record a note.',
      input: z.object({ title: z.string(), note: z.string() }),
      run: async () => {
        calls++;
        return { saved: true };
      },
    });
    const engine = createEngine({
      store: openStore(sqliteFile()),
      clock: new ManualClock({ autoAdvance: true }),
      model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0 },
      maxOutputBytes: 16,
    });
    const workflow = {
      id: 'poison-model',
      steps: { write: { claude: { tool: 'record_note', prompt: 'Write a note about the order.' } }, done: { final: true } },
    };
    const run = await engine.start(loadDefinitionFromObject(workflow, [note as unknown as AnyTool], 'poison.test'));
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'invalid_output', step: 'write' } });
    expect(run.failure?.message).toMatch(/the input Claude gave for record_note cannot be stored: it is larger than the limit of 16 bytes/);
    expect(run.usage.totalTokens).toBeGreaterThan(0);
    expect(calls).toBe(0);
  });
});

describe('outputs that look like XState internals are kept as they are', () => {
  it('an output shaped like an actor reference ({sessionId, send, ref}) survives the snapshot and reaches a later step unchanged', async () => {
    const shaped = { session: { sessionId: 's-1', send: 'email', ref: 'R-9' }, tag: { xstate$$type: 1, id: 'x' } };
    const pay = payTool(() => shaped);
    const file = sqliteFile();
    const workflow = {
      id: 'shaped',
      steps: {
        pay: { tool: 'pay', with: { order: 'A-1' } },
        hold: { wait: { on: { GO: 'done' } } },
        done: { final: true, output: { paid: '{% $steps.pay.output %}' } },
      },
    };
    const engine = engineOn(openStore(file));
    const run = await engine.start(loadDefinitionFromObject(workflow, [pay.tool], 'poison.test'));
    expect(run.status).toBe('waiting');
    // Another engine on the file restores the run from its stored snapshot: the output must be the tool's, not XState's actor placeholder.
    const other = engineOn(openStore(file), { tools: [pay.tool] });
    const resumed = await other.send(run.runId, 'GO');
    expect(resumed).toMatchObject({ status: 'done', output: { paid: shaped } });
  });
});
