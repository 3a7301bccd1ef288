/**
 * A step's output is stored once on SQLite: in the journal entry that recorded
 * it, while the run's snapshot keeps a reference (`$outputSeq`) that the store
 * resolves when it reads the run. Through the real engine on real SQLite files:
 * round trip, resume on a reopened store, old rows with the outputs inline,
 * rerun and redrive, large outputs; and through the store alone, a commit that
 * was refused leaves no reference behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunContext } from '../../src/compile/context.js';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { rerun } from '../../src/engine/rerun.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { ConflictError, type Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import { entry, makeRun, patch } from '../../src/testing/store-fixtures.js';

const BLOB = 200_000;
const fetchTool = defineTool({
  name: 'fetch',
  description: 'Fetches a record',
  input: z.object({ id: z.string(), size: z.number() }),
  run: ({ id, size }) => ({ id, marker: `MARK-fetch-${id}`, blob: 'x'.repeat(size), looksLikeARef: { $outputSeq: 1 } }),
});
const enrichTool = defineTool({
  name: 'enrich',
  description: 'Enriches it',
  input: z.object({ from: z.string() }),
  run: ({ from }) => ({ marker: 'MARK-enrich', from }),
});
const finishTool = defineTool({
  name: 'finish',
  description: 'Finishes',
  input: z.object({ a: z.string(), b: z.string(), size: z.number() }),
  run: (input) => ({ ...input, marker: 'MARK-finish' }),
});
const tools = [fetchTool, enrichTool, finishTool];

let failLine = true;
const price = defineTool({
  name: 'price',
  description: 'Prices a line',
  input: z.object({ qty: z.number(), base: z.number() }),
  run: ({ qty, base }) => {
    if (qty === 2 && failLine) throw new Error('line 2 is broken');
    return { total: qty * base };
  },
});
const baseTool = defineTool({ name: 'base', description: 'The base price', input: z.object({}), run: () => ({ base: 10, note: 'MARK-base' }) });

const definition = loadDefinitionFromObject(
  {
    id: 'outputs',
    steps: {
      fetch: { tool: 'fetch', with: { id: '{% $input.id %}', size: '{% $input.size %}' }, next: 'enrich' },
      enrich: { tool: 'enrich', with: { from: '{% $steps.fetch.output.marker %}' }, next: 'hold' },
      hold: { wait: { on: { APPROVE: 'finish' } } },
      finish: {
        tool: 'finish',
        with: { a: '{% $steps.fetch.output.marker %}', b: '{% $steps.enrich.output.from %}', size: '{% $length($steps.fetch.output.blob) %}' },
        next: 'done',
      },
      done: { final: true, output: '{% $merge([$steps.finish.output, { "ref": $steps.fetch.output.looksLikeARef }]) %}' },
    },
  },
  tools,
  'outputs',
);

let dir: string;
let path: string;
const stores: Store[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stepwise-outputs-'));
  path = join(dir, 'runs.db');
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

function openStore(): Store {
  const store = createSqliteStore({ path });
  stores.push(store);
  return store;
}

function engineOn(store: Store = openStore()): Engine {
  return createEngine({ store, tools: [...tools, price, baseTool], clock: new ManualClock({ autoAdvance: true }), model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } });
}

/** The stored text of a run's snapshot, read with a connection of its own. */
function rawSnapshot(runId: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT snapshot FROM runs WHERE id = ?').pluck().get(runId) as string) ?? '';
  } finally {
    db.close();
  }
}

function stepsOf(snapshot: unknown): RunContext['steps'] {
  return (snapshot as { context: RunContext }).context.steps;
}

const expectedFinish = (id: string) => ({ a: `MARK-fetch-${id}`, b: `MARK-fetch-${id}`, size: BLOB, marker: 'MARK-finish', ref: { $outputSeq: 1 } });

describe('step outputs stored once on SQLite', () => {
  it('round trip: the snapshot holds references, reads give the outputs back', async () => {
    const engine = engineOn();
    const parked = await engine.start(definition, { runId: 'r1', input: { id: 'r1', size: BLOB } });
    expect(parked.status).toBe('waiting');
    const text = rawSnapshot('r1');
    expect(text.length).toBeLessThan(BLOB / 10);
    expect(text).not.toContain('MARK-fetch');
    expect(text).not.toContain('MARK-enrich');
    expect(text.match(/"\$outputSeq":\d+/g)).toHaveLength(2);

    const record = await engine.store.get('r1');
    const steps = stepsOf(record?.snapshot);
    expect(steps['fetch']?.output).toEqual({ id: 'r1', marker: 'MARK-fetch-r1', blob: 'x'.repeat(BLOB), looksLikeARef: { $outputSeq: 1 } });
    expect(steps['enrich']?.output).toEqual({ marker: 'MARK-enrich', from: 'MARK-fetch-r1' });
    expect(Object.keys(steps['fetch']!)).toEqual(Object.keys(steps['enrich']!));
    expect(Object.keys(steps['fetch']!)).toContain('output');
    expect(Object.keys(steps['fetch']!)).not.toContain('$outputSeq');

    // Each output is in the journal once, and only there.
    const journal = await engine.store.journal('r1');
    expect(journal.filter((e) => e.event === 'completed').map((e) => e.output)).toEqual([steps['fetch']?.output, steps['enrich']?.output]);
    const listed = await engine.store.list({});
    expect(stepsOf(listed.find((r) => r.id === 'r1')?.snapshot)['fetch']?.output).toEqual(steps['fetch']?.output);
  });

  it('a run resumed on a reopened store sees the outputs, and keeps storing references', async () => {
    const first = openStore();
    await engineOn(first).start(definition, { runId: 'r2', input: { id: 'r2', size: BLOB } });
    await first.close();
    const done = await engineOn().send('r2', 'APPROVE');
    expect(done.status, JSON.stringify(done.failure)).toBe('done');
    expect(done.output).toEqual(expectedFinish('r2'));
    const text = rawSnapshot('r2');
    expect(text.length).toBeLessThan(BLOB / 10);
    expect(text).not.toContain('MARK-');
    expect(text.match(/"\$outputSeq":\d+/g)).toHaveLength(3);
    const reopened = openStore();
    expect(stepsOf((await reopened.get('r2'))?.snapshot)['finish']?.output).toEqual({ ...expectedFinish('r2'), ref: undefined });
  });

  it('reads and continues a run whose snapshot holds its outputs inline (as stores wrote before)', async () => {
    const first = openStore();
    await engineOn(first).start(definition, { runId: 'r3', input: { id: 'r3', size: 10 } });
    const inline = JSON.stringify((await first.get('r3'))?.snapshot);
    await first.close();
    const db = new Database(path);
    db.prepare('UPDATE runs SET snapshot = ? WHERE id = ?').run(inline, 'r3');
    db.close();
    expect(rawSnapshot('r3')).toContain('MARK-fetch-r3');

    const engine = engineOn();
    expect(stepsOf((await engine.store.get('r3'))?.snapshot)['enrich']?.output).toEqual({ marker: 'MARK-enrich', from: 'MARK-fetch-r3' });
    const done = await engine.send('r3', 'APPROVE');
    expect(done.status, JSON.stringify(done.failure)).toBe('done');
    expect(done.output).toEqual({ ...expectedFinish('r3'), size: 10 });
  });

  it('rerun from a later step keeps the earlier outputs', async () => {
    const engine = engineOn();
    await engine.start(definition, { runId: 'r4', input: { id: 'r4', size: 100 } });
    await engine.send('r4', 'APPROVE');
    const again = await rerun(engine, 'r4', 'finish', { runId: 'r4-again' });
    expect(again.status).toBe('done');
    expect(again.output).toEqual({ ...expectedFinish('r4'), size: 100 });
    const steps = stepsOf((await openStore().get('r4-again'))?.snapshot);
    expect(steps['fetch']?.output).toMatchObject({ marker: 'MARK-fetch-r4' });
    expect(steps['finish']?.output).toMatchObject({ marker: 'MARK-finish', size: 100 });
  });

  it('large outputs: several megabytes each, stored once, read back whole', async () => {
    const big = 3_000_000;
    const engine = engineOn();
    await engine.start(definition, { runId: 'r5', input: { id: 'r5', size: big } });
    const done = await engine.send('r5', 'APPROVE');
    expect(done.output).toMatchObject({ size: big });
    expect(rawSnapshot('r5').length).toBeLessThan(20_000);
    const db = new Database(path, { readonly: true });
    const stored = db.prepare("SELECT sum(length(payload)) FROM journal WHERE run_id = 'r5'").pluck().get() as number;
    db.close();
    expect(stored).toBeGreaterThan(big);
    expect(stored).toBeLessThan(big + 100_000);
    expect((stepsOf((await openStore().get('r5'))?.snapshot)['fetch']?.output as { blob: string }).blob).toHaveLength(big);
  });
});

describe('redrive on SQLite with outputs by reference', () => {
  const mapDefinition = loadDefinitionFromObject(
    {
      id: 'lines',
      steps: {
        base: { tool: 'base', with: {}, next: 'each' },
        each: {
          map: {
            items: '{% $input.lines %}',
            as: 'qty',
            context: { base: '{% $steps.base.output.base %}' },
            steps: { line: { tool: 'price', with: { qty: '{% $input.qty %}', base: '{% $input.base %}' }, retry: { maxAttempts: 1 } } },
          },
          next: 'done',
        },
        done: { final: true, output: { totals: '{% $steps.each.output.total %}', note: '{% $steps.base.output.note %}' } },
      },
    },
    [price, baseTool],
    'lines',
  );

  it('a failed map redriven sees the outputs before it', async () => {
    const engine = engineOn();
    const failed = await engine.start(mapDefinition, { runId: 'm1', input: { lines: [1, 2, 3] } });
    expect(failed.status, JSON.stringify(failed.failure)).toBe('failed');
    failLine = false;
    const done = await engineOn().redrive('m1');
    expect(done.status, JSON.stringify(done.failure)).toBe('done');
    expect(done.output).toEqual({ totals: [10, 20, 30], note: 'MARK-base' });
  });
});

describe('SQLite store: output references', () => {
  it('a refused commit leaves no reference: a later commit of the same output writes it where it is', async () => {
    const store = openStore();
    const run = makeRun({ snapshot: { value: 'a', context: { steps: {} } } });
    await store.create(run, [entry({ event: 'created', step: null })]);
    const output = { marker: 'MARK-refused' };
    const snapshot = { value: 'b', context: { steps: { a: { output, status: 'done', visit: 1, attempts: 1 } } } };
    // Expecting revision 5: refused.
    await expect(store.commit(run.id, patch({ snapshot }), [entry({ event: 'completed', output })], 5)).rejects.toBeInstanceOf(ConflictError);
    // Another commit takes the seq the refused one would have had.
    await store.commit(run.id, patch({ snapshot: { value: 'a', context: { steps: {} } } }), [entry({ event: 'completed', output: { other: true } })]);
    await store.commit(run.id, patch({ snapshot }), []);
    expect(rawSnapshot(run.id)).toContain('MARK-refused');
    expect(stepsOf((await openStore().get(run.id))?.snapshot)['a']?.output).toEqual(output);
  });

  it('an output journaled by one run is not referenced from another run', async () => {
    const store = openStore();
    const output = { marker: 'MARK-shared' };
    const a = makeRun({ snapshot: { value: 'a', context: { steps: {} } } });
    const b = makeRun({ snapshot: { value: 'a', context: { steps: {} } } });
    await store.create(a, []);
    await store.create(b, [entry({ event: 'created', step: null })]);
    const snapshot = { value: 'b', context: { steps: { a: { output, status: 'done', visit: 1, attempts: 1 } } } };
    await store.commit(a.id, patch({ snapshot }), [entry({ event: 'completed', output })]);
    await store.commit(b.id, patch({ snapshot }), []);
    expect(rawSnapshot(a.id)).not.toContain('MARK-shared');
    expect(rawSnapshot(b.id)).toContain('MARK-shared');
    const reopened = openStore();
    expect(stepsOf((await reopened.get(a.id))?.snapshot)['a']?.output).toEqual(output);
    expect(stepsOf((await reopened.get(b.id))?.snapshot)['a']?.output).toEqual(output);
  });
});
