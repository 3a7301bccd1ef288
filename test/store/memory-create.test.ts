/** The memory store's `create` hands back the snapshot it was given, as `commit` does; reads are fresh copies. */
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/store/memory.js';
import { makeRun } from '../../src/testing/store-fixtures.js';
import { zeroUsage } from '../../src/run/types.js';

describe('memory store create', () => {
  it("returns the caller's snapshot, not one parsed back from the text just written", async () => {
    const store = createMemoryStore();
    const snapshot = { value: 'a', context: { steps: { a: { status: 'done', output: { n: 1 } } } } };
    const { run, created } = await store.create(makeRun({ snapshot }), []);
    expect(created).toBe(true);
    expect(run.snapshot).toBe(snapshot);
  });

  it('reads the stored snapshot as fresh copies, apart from the one handed back', async () => {
    const store = createMemoryStore();
    const snapshot = { value: 'a', context: { steps: { a: { status: 'done', output: { n: 1 } } } } };
    const { run } = await store.create(makeRun({ snapshot }), []);
    const read = await store.get(run.id);
    expect(read?.snapshot).toEqual(snapshot);
    expect(read?.snapshot).not.toBe(snapshot);
    (read!.snapshot as typeof snapshot).context.steps.a.output.n = 2;
    expect((await store.get(run.id))?.snapshot).toEqual({ value: 'a', context: { steps: { a: { status: 'done', output: { n: 1 } } } } });
  });

  it("returns the caller's output, failure, usage and options as commit does, and a fresh input", async () => {
    const store = createMemoryStore();
    const draft = makeRun({ output: { total: 3 }, failure: null, input: { item: 'a' }, options: { budget: 10 }, usage: { ...zeroUsage } });
    const { run } = await store.create(draft, []);
    expect(run.output).toBe(draft.output);
    expect(run.options).toBe(draft.options);
    expect(run.usage).toEqual(draft.usage);
    expect(run.usage).not.toBe(draft.usage);
    expect(run.input).toEqual(draft.input);
    expect(run.input).not.toBe(draft.input);
    (draft.usage as { totalTokens: number }).totalTokens = 99;
    expect((await store.get(run.id))?.usage.totalTokens).toBe(0);
  });

  it('returns a stored copy when the run already exists', async () => {
    const store = createMemoryStore();
    const first = makeRun();
    await store.create(first, []);
    const snapshot = { value: 'z', context: {} };
    const again = await store.create({ ...first, snapshot }, []);
    expect(again.created).toBe(false);
    expect(again.run.snapshot).toEqual(first.snapshot);
    expect(again.run.snapshot).not.toBe(snapshot);
  });

  it('lists every run with its stored snapshot', async () => {
    const store = createMemoryStore();
    const runs = [makeRun({ snapshot: { value: 'a', context: { n: 1 } } }), makeRun({ snapshot: { value: 'b', context: { n: 2 } } }), makeRun({ snapshot: { value: 'c', context: { n: 3 } } })];
    for (const run of runs) await store.create(run, []);
    const listed = await store.list();
    expect(new Map(listed.map((r) => [r.id, r.snapshot]))).toEqual(new Map(runs.map((r) => [r.id, r.snapshot])));
  });
});
