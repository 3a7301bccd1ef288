/**
 * What a map item costs the store, through the real engine on the memory
 * store: a new item's run is created by its first commit (the start of its
 * first step, with its `created` entry), so an item of one tool step is two
 * writes (that create, then the commit of its end), and the parent's record is
 * read once per map, not once per item; nor is a cancel request looked for in
 * the store for a run that was not there. The item keeps its own row, journal
 * and parent link, and a re-run of a failed item is a run of its own the same
 * way.
 */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createMemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';

const failOnce = new Set<number>();
const price = defineTool({
  name: 'price',
  description: 'Prices one line',
  input: z.object({ line: z.string(), index: z.number() }),
  run: ({ line, index }) => {
    if (failOnce.delete(index)) throw new Error(`line ${index} failed once`);
    return { line, amount: 10 * (index + 1) };
  },
});

/** A memory store that counts writes per run, and reads of `watched`. */
function countingStore(): { store: Store; writes: Map<string, string[]>; reads: Map<string, number> } {
  const store = createMemoryStore();
  const writes = new Map<string, string[]>();
  const reads = new Map<string, number>();
  const wrote = (id: string, what: string) => writes.set(id, [...(writes.get(id) ?? []), what]);
  const counted: Store = {
    ...store,
    create: (run, journal) => {
      wrote(run.id, 'create');
      return store.create(run, journal);
    },
    commit: (runId, ...rest) => {
      wrote(runId, 'commit');
      return store.commit(runId, ...rest);
    },
    get: (runId) => {
      reads.set(runId, (reads.get(runId) ?? 0) + 1);
      return store.get(runId);
    },
    readShared: (key) => {
      reads.set(key, (reads.get(key) ?? 0) + 1);
      return store.readShared(key);
    },
  };
  return { store: counted, writes, reads };
}

const definition = (retry?: number) =>
  loadDefinitionFromObject(
    {
      id: 'priced',
      retry: { maxAttempts: 1 }, // a failing step fails its item's run: the map's own retry runs the item again
      steps: {
        each: { map: { items: '{% $input.lines %}', maxConcurrency: 3, ...(retry ? { retry: { maxAttempts: retry } } : {}), steps: { price: { tool: 'price', with: { line: '{% $input.item %}', index: '{% $input.index %}' } } } } },
        done: { final: true, output: '{% $steps.each.output %}' },
      },
    },
    [price],
    'priced',
  );

describe('map item writes', () => {
  it('creates each item run with its first commit: two writes for an item of one tool step, the parent read once per map', async () => {
    const { store, writes, reads } = countingStore();
    const engine = createEngine({ store, clock: new ManualClock({ autoAdvance: true }) });
    const lines = ['a', 'b', 'c', 'd', 'e'];
    const run = await engine.start(definition(), { input: { lines } });
    expect(run.status).toBe('done');
    expect(run.output).toEqual(lines.map((line, i) => ({ line, amount: 10 * (i + 1) })));
    const items = await store.list({ parentId: run.runId });
    expect(items).toHaveLength(5);
    for (const item of items) {
      expect(item.status).toBe('done');
      expect(item.options.parent).toMatchObject({ runId: run.runId, step: 'each', visit: 1 });
      expect(writes.get(item.id)).toEqual(['create', 'commit']);
      const journal = await engine.journal(item.id);
      expect(journal.map((e) => e.event)).toEqual(['created', 'started', 'completed', 'finished']);
      expect(journal[0]!.data).toMatchObject({ input: { item: lines[item.options.parent!.index!], index: item.options.parent!.index } });
    }
    expect(reads.get(run.runId) ?? 0).toBeLessThanOrEqual(2);
    // A new run cannot have a cancel request yet: the drive that creates it (an item's, or the started run's own)
    // does not look for one in the store.
    for (const item of items) expect(reads.get(`cancel:${item.id}`)).toBeUndefined();
    expect(reads.get(`cancel:${run.runId}`)).toBeUndefined();
  });

  it('a failed item re-run is a new run created the same way, with its own journal', async () => {
    const { store, writes } = countingStore();
    const engine = createEngine({ store, clock: new ManualClock({ autoAdvance: true }) });
    failOnce.add(1);
    const run = await engine.start(definition(2), { input: { lines: ['a', 'b', 'c'] } });
    expect(run.status).toBe('done');
    const items = await store.list({ parentId: run.runId });
    const second = items.filter((r) => r.options.parent?.index === 1);
    expect(second.map((r) => [r.options.parent?.attempt, r.status]).sort()).toEqual([
      [1, 'failed'],
      [2, 'done'],
    ]);
    for (const r of second) expect(writes.get(r.id)?.[0]).toBe('create');
    const retried = second.find((r) => r.options.parent?.attempt === 2)!;
    expect((await engine.journal(retried.id)).map((e) => e.event)).toEqual(['created', 'started', 'completed', 'finished']);
  });
});
