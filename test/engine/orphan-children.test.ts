/**
 * Child runs whose parent left the step that started them (the run ended,
 * a branch failed fast, the deadline passed) are cancelled, and theirs, as a
 * cancel of the parent does: they no longer wait in the inbox, take events or
 * run their tools for a parent that has gone on. Children of a step the parent
 * is still at are left alone. Found by outside testing (all three were left
 * waiting).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';

let arrived: () => void = () => {};
let itemArrived = new Promise<void>((resolve) => (arrived = resolve));
const paid: string[] = [];
const tools = [
  defineTool({ name: 'arrive', description: 'An item reached its wait', input: z.object({}), run: () => (arrived(), { ok: true }) }),
  defineTool({ name: 'pay', description: 'A side effect', input: z.object({ item: z.string() }), run: ({ item }) => (paid.push(item), { paid: item }) }),
  defineTool({ name: 'after_items', description: 'Goes on once an item waits', input: z.object({}), run: async () => (await itemArrived, { ok: true }) }),
  defineTool({
    name: 'fail_after_items',
    description: 'Fails once an item waits',
    input: z.object({}),
    run: async () => {
      await itemArrived;
      throw Object.assign(new Error('boom'), { retryable: false });
    },
  }),
];

let dir: string | undefined;
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  paid.length = 0;
  itemArrived = new Promise<void>((resolve) => (arrived = resolve));
});

function engine(clock = new ManualClock({ autoAdvance: true }), workflows: ReturnType<typeof loadDefinitionFromObject>[] = []): Engine {
  dir ??= mkdtempSync(join(tmpdir(), 'stepwise-orphans-'));
  const store = createSqliteStore({ path: join(dir, 'runs.db') });
  stores.push(store);
  return createEngine({ store, tools, clock, workflows, model: { baseURL: 'http://127.0.0.1:9', apiKey: 'x' } });
}

/** A map whose items each say they arrived, then wait for OK before they pay. */
const waitingMap = {
  map: {
    items: '{% $input.items %}',
    steps: { hello: { tool: 'arrive', next: 'w' }, w: { wait: { on: { OK: 'pay' } } }, pay: { tool: 'pay', with: { item: '{% $input.item %}' } } },
  },
};

const statuses = async (e: Engine, runId: string) => (await e.store.list({ parentId: runId })).map((c) => c.status).sort();

describe('children of a step the parent left', () => {
  it('are cancelled when a final step in another branch ends the run', async () => {
    const e = engine();
    const def = loadDefinitionFromObject(
      {
        id: 'ends-early',
        steps: {
          p: { parallel: { branches: { left: { steps: { m: waitingMap } }, right: { steps: { go: { tool: 'after_items' }, early: { final: true, output: 'early' } } } } }, next: 'done' },
          done: { final: true, output: 'late' },
        },
      },
      tools,
      'ends-early',
    );
    const run = await e.start(def, { input: { items: ['a', 'b'] } });
    expect(run.status).toBe('done');
    expect(await statuses(e, run.runId)).toEqual(['cancelled', 'cancelled']);
    const [child] = await e.store.list({ parentId: run.runId });
    await expect(e.send(child!.id, 'OK')).rejects.toThrow();
    expect(paid).toEqual([]);
  });

  it('are cancelled when their branch is failed fast by a sibling', async () => {
    const e = engine();
    const def = loadDefinitionFromObject(
      {
        id: 'fails-fast',
        retry: { maxAttempts: 1 },
        steps: {
          p: { parallel: { branches: { left: { steps: { m: waitingMap } }, right: { steps: { boom: { tool: 'fail_after_items' } } } } }, next: 'done' },
          done: { final: true, output: 'done' },
        },
      },
      tools,
      'fails-fast',
    );
    const run = await e.start(def, { input: { items: ['a'] } });
    expect(run.status).toBe('failed');
    expect(await statuses(e, run.runId)).toEqual(['cancelled']);
    expect(paid).toEqual([]);
  });

  it('are cancelled a level down too: a child whose branch fails fast, driven inside its parent, cancels its waiting items', async () => {
    const inner = loadDefinitionFromObject(
      {
        id: 'inner',
        retry: { maxAttempts: 1 },
        steps: { p: { parallel: { branches: { left: { steps: { m: waitingMap } }, right: { steps: { boom: { tool: 'fail_after_items' } } } } }, next: 'end' }, end: { final: true } },
      },
      tools,
      'inner',
    );
    const e = engine(undefined, [inner]);
    const outer = loadDefinitionFromObject({ id: 'outer', steps: { sub: { workflow: { id: 'inner', input: { items: '{% $input.items %}' } }, next: 'done' }, done: { final: true } } }, tools, 'outer');
    const run = await e.start(outer, { input: { items: ['a'] } });
    expect(run.status).toBe('failed');
    const [child] = await e.store.list({ parentId: run.runId });
    expect(child!.status).toBe('failed');
    expect(await statuses(e, child!.id)).toEqual(['cancelled']);
  });

  it('are cancelled when the deadline fails the run while they wait', async () => {
    const clock = new ManualClock({ autoAdvance: false });
    const e = engine(clock);
    const def = loadDefinitionFromObject({ id: 'late', deadline: '1s', steps: { m: { ...waitingMap, next: 'done' }, done: { final: true, output: 'x' } } }, tools, 'late');
    const run = await e.start(def, { input: { items: ['a'] } });
    expect(run.status).toBe('waiting');
    expect(await statuses(e, run.runId)).toEqual(['waiting']);
    clock.advance(2000);
    const late = await e.resume(run.runId);
    expect(late.status).toBe('failed');
    expect(late.failure?.kind).toBe('deadline');
    expect(await statuses(e, run.runId)).toEqual(['cancelled']);
  });

  it('are left alone while the parent is still at their step', async () => {
    const e = engine();
    const def = loadDefinitionFromObject({ id: 'still', steps: { m: { ...waitingMap, next: 'done' }, done: { final: true, output: '{% $steps.m.output %}' } } }, tools, 'still');
    const run = await e.start(def, { input: { items: ['a', 'b'] } });
    expect(run.status).toBe('waiting');
    expect(await statuses(e, run.runId)).toEqual(['waiting', 'waiting']);
    await e.send(run.runId, 'OK');
    await e.send(run.runId, 'OK');
    expect((await e.get(run.runId)).status).toBe('done');
    expect(paid.sort()).toEqual(['a', 'b']);
  });
});
