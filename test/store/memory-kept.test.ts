/**
 * The memory store keeps a run's snapshot and journal entries as committed and
 * writes their JSON only when they are read (src/store/kept-value.ts). That
 * holds only if nothing edits a committed value: the engine copies what callers
 * hand in (a run's input, an event's data) at its edge, so a caller that
 * changes its own object afterwards changes nothing stored; and the store,
 * verifying (as the whole suite runs it), fails a read of a value edited after
 * its commit. Real engine, real memory store, a manual clock.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { KeptValueChangedError } from '../../src/store/kept-value.js';
import { createMemoryStore } from '../../src/store/memory.js';
import type { RunRecord } from '../../src/run/types.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

const noModel = { baseURL: 'http://127.0.0.1:9', apiKey: 'unused', maxRetries: 0 };

const approval = loadDefinitionFromObject(
  {
    id: 'kept-approval',
    steps: {
      ask: { wait: { on: { APPROVE: 'yes' } } },
      yes: { final: true, output: { order: '{% $input.order %}', by: '{% $steps.ask.output.by %}' } },
    },
  },
  [],
  'kept-approval.test',
);

describe('what callers hand in is copied at the edge', () => {
  for (const verify of ['1', '0']) {
    it(`a run's input changed by its caller after start changes nothing stored (verifying: ${verify})`, async () => {
      vi.stubEnv('STEPWISE_VERIFY_MEMORY_STORE', verify);
      const store = createMemoryStore();
      const engine = createEngine({ store, model: noModel, clock: new ManualClock() });
      const input = { order: { id: 'o-1', lines: [{ sku: 'a', qty: 1 }] } };
      const waiting = await engine.start(approval, { input });
      input.order.id = 'o-2';
      input.order.lines.push({ sku: 'b', qty: 9 });
      const created = (await engine.journal(waiting.runId))[0]!;
      expect(created.data).toMatchObject({ input: { order: { id: 'o-1', lines: [{ sku: 'a', qty: 1 }] } } });
      expect((await store.get(waiting.runId))!.input).toEqual({ order: { id: 'o-1', lines: [{ sku: 'a', qty: 1 }] } });
      const done = await engine.send(waiting.runId, 'APPROVE', { by: 'cfo' });
      expect(done).toMatchObject({ status: 'done', output: { order: { id: 'o-1', lines: [{ sku: 'a', qty: 1 }] }, by: 'cfo' } });
    });

    it(`an event's data changed by its sender after send changes nothing stored (verifying: ${verify})`, async () => {
      vi.stubEnv('STEPWISE_VERIFY_MEMORY_STORE', verify);
      const store = createMemoryStore();
      const engine = createEngine({ store, model: noModel, clock: new ManualClock() });
      const waiting = await engine.start(approval, { input: { order: 'o-1' } });
      const data = { by: 'cfo', notes: ['ok'] };
      await engine.send(waiting.runId, 'APPROVE', data);
      data.by = 'intern';
      data.notes.push('changed');
      const event = (await engine.journal(waiting.runId)).find((e) => e.event === 'event')!;
      expect(event.data).toMatchObject({ type: 'APPROVE', data: { by: 'cfo', notes: ['ok'] } });
      const record = (await store.get(waiting.runId))!;
      expect(record.output).toEqual({ order: 'o-1', by: 'cfo' });
      expect(JSON.stringify(record.snapshot)).not.toContain('intern');
    });
  }
});

describe('what the engine hands out is the caller\'s own', () => {
  const passThrough = loadDefinitionFromObject(
    { id: 'kept-output', steps: { ask: { wait: { on: { APPROVE: 'done' } } }, done: { final: true, output: '{% $steps.ask.output %}' } } },
    [],
    'kept-output.test',
  );

  it('a view whose output (taken from a step result) its caller changes leaves the stored run as it was', async () => {
    const store = createMemoryStore();
    const engine = createEngine({ store, model: noModel, clock: new ManualClock() });
    const waiting = await engine.start(passThrough, { budget: 1000 });
    const view = await engine.send(waiting.runId, 'APPROVE', { by: 'cfo', lines: [1, 2] });
    (view.output as { by: string }).by = 'intern';
    (view.output as { lines: number[] }).lines.push(3);
    (view.budget as { tokens: number }).tokens = 1;
    const again = await engine.get(waiting.runId);
    expect(again.output).toEqual({ by: 'cfo', lines: [1, 2] });
    expect(again.budget.tokens).toBe(1000);
    expect(JSON.stringify((await store.get(waiting.runId))!.snapshot)).not.toContain('intern');
  });

  it('a subscribe listener that changes the entries it is given changes no journal entry', async () => {
    const store = createMemoryStore();
    const engine = createEngine({ store, model: noModel, clock: new ManualClock() });
    engine.subscribe((_run, journal) => {
      for (const entry of journal) {
        (entry as { event: string }).event = 'edited';
        if (entry.data && typeof entry.data === 'object') (entry.data as Record<string, unknown>)['edited'] = true;
      }
    });
    const waiting = await engine.start(passThrough);
    await engine.send(waiting.runId, 'APPROVE', { by: 'cfo' });
    const journal = await engine.journal(waiting.runId);
    expect(journal.map((e) => e.event)).not.toContain('edited');
    expect(JSON.stringify(journal)).not.toContain('"edited"');
  });
});

describe('the memory store, verifying, refuses a committed value edited afterwards', () => {
  const created = async (store: ReturnType<typeof createMemoryStore>) => {
    const snapshot = { context: { steps: {}, trail: [{ id: 'a', status: 'done' }] } };
    const entry = { step: 'a', visit: 1, attempt: 1, event: 'completed' as const, at: 1, output: { total: 1 } };
    const run: RunRecord = {
      id: 'r1', workflow: 'w', version: 'v', definition: approval.workflow as never, status: 'running', input: {}, output: null, failure: null,
      usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0 }, snapshot, options: {}, wakeAt: null, lease: null, createdAt: 1, updatedAt: 1, revision: 0,
    };
    await store.create(run, [entry]);
    return { snapshot, entry };
  };

  it('a snapshot edited after its commit fails the next read, naming the run', async () => {
    vi.stubEnv('STEPWISE_VERIFY_MEMORY_STORE', '1');
    const store = createMemoryStore();
    const { snapshot } = await created(store);
    expect((await store.get('r1'))!.snapshot).toEqual(snapshot);
    snapshot.context.trail[0]!.status = 'failed';
    await expect(store.get('r1')).rejects.toThrow(KeptValueChangedError);
    await expect(store.get('r1')).rejects.toThrow(/snapshot of run "r1" changed after it was committed/);
  });

  it('a journal entry edited after its commit fails the next read of the journal', async () => {
    vi.stubEnv('STEPWISE_VERIFY_MEMORY_STORE', '1');
    const store = createMemoryStore();
    const { entry } = await created(store);
    expect((await store.journal('r1'))[0]).toMatchObject({ output: { total: 1 } });
    entry.output.total = 2;
    await expect(store.journal('r1')).rejects.toThrow(/journal entry 1 of run "r1" changed/);
  });

  it('not verifying, reads are still fresh copies that follow JSON', async () => {
    vi.stubEnv('STEPWISE_VERIFY_MEMORY_STORE', '0');
    const store = createMemoryStore();
    await created(store);
    const first = (await store.get('r1'))!;
    (first.snapshot as { context: { trail: Array<{ status: string }> } }).context.trail[0]!.status = 'edited';
    expect((await store.get('r1'))!.snapshot).toEqual({ context: { steps: {}, trail: [{ id: 'a', status: 'done' }] } });
    const journal = await store.journal('r1');
    (journal[0]!.output as { total: number }).total = 5;
    expect((await store.journal('r1'))[0]).toMatchObject({ output: { total: 1 }, seq: 1, runId: 'r1' });
  });
});
