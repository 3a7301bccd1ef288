/**
 * The first drive of a started run goes on with the actor that made the run's
 * initial snapshot (no second actor restored from the store), unless an
 * inspector watches. It must see what a restored actor sees: the input as the
 * store keeps it, and the same steps, journal and output.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEngine } from '../../src/engine/engine.js';
import { ManualClock } from '../../src/engine/clock.js';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { defineTool } from '../../src/tools/define.js';

const noModel = { baseURL: 'http://127.0.0.1:9', apiKey: 'unused', maxRetries: 0 };

const seen: unknown[] = [];
const echo = defineTool({
  name: 'echo',
  description: 'Returns what it got',
  input: z.object({ when: z.string(), tags: z.array(z.string()) }),
  run: (input) => {
    seen.push(input);
    return { when: input.when, count: input.tags.length };
  },
});
const add = defineTool({ name: 'add', description: 'Add one', input: z.object({ n: z.number() }), run: ({ n }) => ({ n: n + 1 }) });

const definition = loadDefinitionFromObject(
  {
    id: 'first-drive',
    steps: {
      first: { tool: 'echo', with: { when: '{% $input.when %}', tags: '{% $input.tags %}' } },
      second: { tool: 'add', with: { n: '{% $steps.first.output.count %}' } },
      third: { tool: 'add', with: { n: '{% $steps.second.output.n %}' } },
      end: { final: true, output: { when: '{% $steps.first.output.when %}', n: '{% $steps.third.output.n %}', keys: '{% $keys($input) %}' } },
    },
  },
  [echo, add],
  'first-drive',
);

/** `value` without what the wall clock measures (a step's `latencyMs`, the store's `updatedAt` is zeroed by the caller). */
function withoutWallTime<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'latencyMs' ? undefined : v))) as T;
}

describe('the first drive of a started run', () => {
  it('sees the input as the store keeps it (JSON), not the caller objects', async () => {
    seen.length = 0;
    const engine = createEngine({ store: createMemoryStore(), model: noModel, clock: new ManualClock({ autoAdvance: true }) });
    const when = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    const input = { when, tags: ['a', 'b'], dropped: undefined };
    const run = await engine.start(definition, { input });
    expect(run.status).toBe('done');
    // A Date reaches the step as its ISO string (a restored actor's context has it so), so the string schema accepts it.
    expect(seen).toEqual([{ when: when.toISOString(), tags: ['a', 'b'] }]);
    // `dropped` is not a key of the input the run sees, as it is not of the stored one.
    expect(run.output).toEqual({ when: when.toISOString(), n: 4, keys: ['when', 'tags'] });
    // The caller's object is not the run's: changing it afterwards changes nothing stored.
    input.tags.push('c');
    expect((await engine.get(run.runId)).output).toEqual({ when: when.toISOString(), n: 4, keys: ['when', 'tags'] });
  });

  it('stores the same run as a drive that restores its actor (with an inspector)', async () => {
    const runOf = async (inspect: boolean) => {
      const store = createMemoryStore();
      const events: unknown[] = [];
      const engine = createEngine({
        store,
        model: noModel,
        clock: new ManualClock({ autoAdvance: true, start: 1000 }),
        ...(inspect ? { inspect: (e: unknown) => events.push(e) } : {}),
      });
      const view = await engine.start(definition, { runId: 'r1', input: { when: 'now', tags: ['x'] } });
      const record = await store.get('r1');
      const journal = (await store.journal('r1')).map(({ runId: _r, ...entry }) => withoutWallTime(entry));
      return { view: withoutWallTime({ ...view, updatedAt: 0 }), snapshot: record?.snapshot, journal, inspected: events.length };
    };
    const handedOver = await runOf(false);
    const restored = await runOf(true);
    expect(restored.inspected).toBeGreaterThan(0);
    expect(handedOver.view.status).toBe('done');
    expect(handedOver.snapshot).toEqual(restored.snapshot);
    expect(handedOver.journal).toEqual(restored.journal);
    expect(handedOver.view).toEqual(restored.view);
  });

  it('a detached start leaves the run for step() and workers, which restore it', async () => {
    const engine = createEngine({ store: createMemoryStore(), model: noModel, clock: new ManualClock({ autoAdvance: true }) });
    const run = await engine.start(definition, { input: { when: 'later', tags: [] }, detach: true });
    expect(run.status).toBe('running');
    let view = await engine.step(run.runId);
    while (view.status === 'running') view = await engine.step(run.runId);
    expect(view.status).toBe('done');
    expect(view.output).toEqual({ when: 'later', n: 2, keys: ['when', 'tags'] });
  });

  it.each([
    ['two engines on one store', 2],
    ['one engine', 1],
  ])('two starts of one id at once make one run (%s): each step runs once, and both answer that run', async (_, count) => {
    seen.length = 0;
    const store = createMemoryStore();
    const made = Array.from({ length: count }, () => createEngine({ store, model: noModel, clock: new ManualClock({ autoAdvance: true }) }));
    const engines = [made[0]!, made[count - 1]!];
    const views = await Promise.all(engines.map((engine) => engine.start(definition, { runId: 'twice', input: { when: 'once', tags: ['a'] } })));
    expect(views.map((v) => v.runId)).toEqual(['twice', 'twice']);
    expect(seen).toEqual([{ when: 'once', tags: ['a'] }]);
    const run = await engines[0]!.get('twice');
    expect(run.status).toBe('done');
    expect(run.output).toEqual({ when: 'once', n: 3, keys: ['when', 'tags'] });
    const journal = await store.journal('twice');
    expect(journal.filter((e) => e.event === 'created')).toHaveLength(1);
    expect(journal.filter((e) => e.event === 'started').map((e) => e.step)).toEqual(['first', 'second', 'third']);
  });

  it("stores the run with its start's lease counted from the moment it is stored, not from when the start began", async () => {
    const store = createMemoryStore();
    const clock = new ManualClock({ start: 1_000_000 });
    const leases: Array<{ owner: string; until: number } | null> = [];
    const watched: typeof store = {
      ...store,
      create: (run, journal) => {
        leases.push(run.lease);
        return store.create(run, journal);
      },
    };
    // Choosing the run's model takes a while (as a slow `modelForRun` could), between the start and the first commit.
    const engine = createEngine({ store: watched, model: noModel, clock, leaseMs: 2_000, modelForRun: async () => (clock.advance(5_000), undefined) });
    const run = await engine.start(definition, { input: { when: 'now', tags: [] } });
    expect(run.status).toBe('done');
    expect(leases).toHaveLength(1);
    expect(leases[0]?.until).toBe(1_000_000 + 5_000 + 2_000);
  });
});
