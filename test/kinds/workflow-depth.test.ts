/**
 * How deep child runs nest, through the real engine on a real SQLite file: a
 * `workflow` step that starts its own definition (or a `map` whose body does)
 * creates child runs only down to `limits.maxDepth` levels below the top-level
 * run (default 8); the step that would go deeper fails with kind `loop` and a
 * message naming the depth, the run ending as any failed step would (its
 * `onError` taken, else the failure goes up through every parent), so a
 * recursion that never stops ends in a persisted state instead of running on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { LoadedDefinition } from '../../src/definition/load.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import type { RunRecord } from '../../src/run/types.js';
import { z } from 'zod';
import { defineTool, type AnyTool } from '../../src/tools/define.js';

/** Starts itself with `d + 1` while `d < 100`: nothing but the depth limit stops it before 100 levels. */
const recursive = (id: string, extra: Record<string, unknown> = {}, onError?: string) =>
  loadDefinitionFromObject(
    {
      id,
      ...extra,
      input: { type: 'object', required: ['d'], properties: { d: { type: 'number' } } },
      steps: {
        go: { choice: [{ when: '{% $input.d < 100 %}', next: 'deeper' }, { next: 'bottom' }] },
        deeper: { workflow: { id, input: { d: '{% $input.d + 1 %}' } }, ...(onError ? { onError } : {}), next: 'done' },
        bottom: { final: true, output: { d: '{% $input.d %}', error: '{% $steps.deeper.error.kind %}' } },
        done: { final: true, output: '{% $steps.deeper.output %}' },
      },
    },
    [],
    id,
  );

/** A map whose body starts this definition again for each item, while `d < 100`. */
const mapRecursive = loadDefinitionFromObject(
  {
    id: 'mrec',
    input: { type: 'object', required: ['d'], properties: { d: { type: 'number' } } },
    steps: {
      each: {
        map: {
          items: '{% $input.d < 100 ? [$input.d] : [] %}',
          steps: { again: { workflow: { id: 'mrec', input: { d: '{% $input.item + 1 %}' } } } },
        },
        next: 'done',
      },
      done: { final: true, output: '{% $steps.each.output %}' },
    },
  },
  [],
  'mrec',
);

let dir: string | undefined;
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function engine(workflows: LoadedDefinition[], tools: AnyTool[] = []): Engine {
  dir ??= mkdtempSync(join(tmpdir(), 'stepwise-depth-'));
  const store = createSqliteStore({ path: join(dir, 'runs.db') });
  stores.push(store);
  return createEngine({ store, tools, workflows, model: { baseURL: 'http://127.0.0.1:9', apiKey: 'x', maxRetries: 0 }, clock: new ManualClock({ autoAdvance: true }) });
}

/** Every run of the tree under `runId`, the run itself first, parents before children. */
async function tree(store: Store, runId: string): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  const queue = [runId];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    const run = await store.get(id);
    if (run) out.push(run);
    for (const child of await store.list({ parentId: id })) queue.push(child.id);
  }
  return out;
}

describe('nesting depth of child runs', () => {
  it('a workflow step that starts its own definition nests 8 levels by default; the 9th fails with kind loop, up through every parent', async () => {
    const def = recursive('rec');
    const e = engine([def]);
    const run = await e.start(def, { input: { d: 0 } });
    expect(run.status).toBe('failed');
    expect(run.failure?.kind).toBe('loop');
    expect(run.failure?.step).toBe('deeper');
    const runs = await tree(e.store, run.runId);
    // The top-level run and 8 levels of children, each failed, none still running.
    expect(runs).toHaveLength(9);
    expect(runs.map((r) => r.status)).toEqual(Array(9).fill('failed'));
    const deepest = runs[8]!;
    expect(deepest.options.parent).toMatchObject({ depth: 8, maxDepth: 8 });
    expect(deepest.failure?.kind).toBe('loop');
    expect(deepest.failure?.message).toMatch(/depth 9/);
    expect(deepest.failure?.message).toMatch(/limits\.maxDepth \(8\)/);
    // The deepest step's failure is journaled like any step's, with its kind; no child run was made for it.
    const failed = (await e.journal(deepest.id)).find((j) => j.step === 'deeper' && j.event === 'failed');
    expect(failed?.error).toMatchObject({ kind: 'loop' });
    expect(await e.store.list({ parentId: deepest.id })).toEqual([]);
    // The top-level run's message says which child failed and why.
    expect(run.failure?.message).toMatch(/depth 9/);
    expect((await e.get(run.runId)).resumable).toBe(false);
  });

  it('the failure takes the step\'s onError route: the deepest run ends there and every run above it completes', async () => {
    const def = recursive('rec', {}, 'bottom');
    const e = engine([def]);
    const run = await e.start(def, { input: { d: 0 } });
    expect(run.status).toBe('done');
    expect(run.output).toEqual({ d: 8, error: 'loop' });
    const runs = await tree(e.store, run.runId);
    expect(runs.map((r) => r.status)).toEqual(Array(9).fill('done'));
  });

  it('limits.maxDepth sets the depth; the child link carries its depth and the limit in force', async () => {
    const def = recursive('rec2', { limits: { maxDepth: 2 } });
    const e = engine([def]);
    const run = await e.start(def, { input: { d: 0 } });
    expect(run.status).toBe('failed');
    expect(run.failure?.kind).toBe('loop');
    const runs = await tree(e.store, run.runId);
    expect(runs).toHaveLength(3);
    expect(runs.map((r) => r.options.parent?.depth)).toEqual([undefined, 1, 2]);
    expect(runs[2]!.failure?.message).toMatch(/depth 3/);
    expect(runs[2]!.failure?.message).toMatch(/limits\.maxDepth \(2\)/);
  });

  it('a child whose definition sets no limit takes the one in force above it: a top-level run may raise it', async () => {
    const child = recursive('rec');
    const deep = loadDefinitionFromObject(
      { id: 'deep', limits: { maxDepth: 11 }, steps: { sub: { workflow: { id: 'rec', input: { d: 0 } } }, done: { final: true, output: '{% $steps.sub.output %}' } } },
      [],
      'deep',
    );
    const e = engine([child, deep]);
    const run = await e.start(deep);
    expect(run.failure?.kind).toBe('loop');
    const runs = await tree(e.store, run.runId);
    // The top-level run and 11 levels of children: the child's definition, which sets none, does not cut it to 8.
    expect(runs).toHaveLength(12);
    expect(runs[11]!.options.parent).toMatchObject({ depth: 11, maxDepth: 11 });
    expect(runs[11]!.failure?.message).toMatch(/depth 12/);
  });

  it('a child cannot go deeper than the smallest limit above it, whatever its own definition allows', async () => {
    const child = recursive('rec');
    const shallow = loadDefinitionFromObject(
      { id: 'shallow', limits: { maxDepth: 1 }, steps: { sub: { workflow: { id: 'rec', input: { d: 0 } } }, done: { final: true, output: '{% $steps.sub.output %}' } } },
      [],
      'shallow',
    );
    const e = engine([child, shallow]);
    const run = await e.start(shallow);
    expect(run.status).toBe('failed');
    expect(run.failure?.kind).toBe('loop');
    const runs = await tree(e.store, run.runId);
    expect(runs).toHaveLength(2);
    expect(runs[1]!.options.parent).toMatchObject({ depth: 1, maxDepth: 1 });
    expect(runs[1]!.failure?.message).toMatch(/depth 2/);
  });

  it('map items are child runs too: a body that starts its own definition stops at the limit, and the map step fails with kind loop', async () => {
    const e = engine([mapRecursive]);
    const run = await e.start(mapRecursive, { input: { d: 0 } });
    expect(run.status).toBe('failed');
    expect(run.failure?.kind).toBe('loop');
    const runs = await tree(e.store, run.runId);
    // mrec at depths 0, 2, 4, 6, 8 and its items at 1, 3, 5, 7: the run at depth 8 starts no item.
    expect(runs).toHaveLength(9);
    const deepest = runs[8]!;
    expect(deepest.workflow).toBe('mrec');
    expect(deepest.failure).toMatchObject({ kind: 'loop', step: 'each' });
    expect(deepest.failure?.message).toMatch(/depth 9/);
    expect(await e.store.list({ parentId: deepest.id })).toEqual([]);
  });

  it('limits.maxDepth: 0 lets a run start no child run; a map with no items starts none and goes on', async () => {
    const def = loadDefinitionFromObject(
      {
        id: 'flat',
        limits: { maxDepth: 0 },
        steps: { each: { map: { items: '{% $input.xs %}', steps: { echo: { final: true, output: '{% $input.item %}' } } }, next: 'done' }, done: { final: true, output: '{% $steps.each.output %}' } },
      },
      [],
      'flat',
    );
    const e = engine([def]);
    const refused = await e.start(def, { input: { xs: [1, 2] } });
    expect(refused.status).toBe('failed');
    expect(refused.failure?.kind).toBe('loop');
    expect(refused.failure?.message).toMatch(/depth 1/);
    expect(await e.store.list({ parentId: refused.runId })).toEqual([]);
    const empty = await e.start(def, { input: { xs: [] } });
    expect(empty.status).toBe('done');
    expect(empty.output).toEqual([]);
  });
});

const locked = defineTool({
  name: 'post',
  description: 'Posts to the ledger, which is locked',
  input: z.object({}),
  run: () => {
    throw new Error('the ledger is locked');
  },
}) as unknown as AnyTool;

/** Starts itself down to depth `bottom`, whose run posts to the ledger and fails (a tool error, no retry); `around` wraps the child step. */
const failingAt = (id: string, bottom: number, around: 'workflow' | 'map' | 'parallel') => {
  const child = { workflow: { id, input: { d: '{% $input.d + 1 %}' } } };
  const deeper =
    around === 'workflow'
      ? { ...child, next: 'done' }
      : around === 'map'
        ? { map: { items: '{% [$input.d] %}', steps: { again: { workflow: { id, input: { d: '{% $input.item + 1 %}' } } } } }, next: 'done' }
        : { parallel: { branches: { left: { steps: { sub: child } }, right: { steps: { fine: { final: true, output: 1 } } } } }, next: 'done' };
  return loadDefinitionFromObject(
    {
      id,
      limits: { maxDepth: 64 },
      retry: { maxAttempts: 1 },
      input: { type: 'object', required: ['d'], properties: { d: { type: 'number' } } },
      steps: {
        go: { choice: [{ when: `{% $input.d < ${bottom} %}`, next: 'deeper' }, { next: 'post' }] },
        deeper,
        post: { tool: 'post', next: 'done' },
        done: { final: true },
      },
    },
    [locked],
    id,
  );
};

describe('the failure of a deeply nested child run', () => {
  it('keeps the innermost cause, its kind and the path of steps, and stays short at depth 64', async () => {
    const def = failingAt('nest', 64, 'workflow');
    const e = engine([def], [locked]);
    const run = await e.start(def, { input: { d: 0 } });
    expect(run.failure).toMatchObject({ kind: 'tool_error', step: 'deeper' });
    // 63 workflow steps, then the tool step of the run at depth 64: the first and last three named, the rest counted.
    expect(run.failure?.message).toBe(
      `the child run ${run.runId}~deeper.1 (nest) failed at deeper > deeper > deeper > … (58 more) > deeper > deeper > post: post: the ledger is locked`,
    );
    // Every run of the chain says as much in as few words, whatever its depth.
    const runs = await tree(e.store, run.runId);
    expect(runs).toHaveLength(65);
    for (const r of runs) {
      expect(r.failure?.kind).toBe('tool_error');
      expect(r.failure?.message).toMatch(/(^|: )post: the ledger is locked$/);
      expect(r.failure!.message.length - r.id.length).toBeLessThan(200);
    }
    // One level down the path is whole.
    expect(runs[62]!.failure?.message).toBe(`the child run ${runs[63]!.id} (nest) failed at deeper > post: post: the ledger is locked`);
    // The step's journal entry carries the same message; the run's failure shows its kind, step and message only.
    const failed = (await e.journal(run.runId)).find((j) => j.step === 'deeper' && j.event === 'failed');
    expect(failed?.error).toEqual({ kind: 'tool_error', message: run.failure?.message });
    expect(Object.keys(run.failure!)).toEqual(['kind', 'step', 'message']);
  });

  it('an onError route sees the step\'s error as before: its kind and its short message', async () => {
    const def = failingAt('nest', 10, 'workflow');
    const catching = loadDefinitionFromObject(
      { id: 'catching', limits: { maxDepth: 64 }, steps: { sub: { workflow: { id: 'nest', input: { d: 0 } }, onError: 'caught' }, caught: { final: true, output: '{% $steps.sub.error %}' } } },
      [],
      'catching',
    );
    const e = engine([def, catching], [locked]);
    const run = await e.start(catching);
    expect(run.status).toBe('done');
    expect(run.output).toEqual({
      kind: 'tool_error',
      message: `the child run ${run.runId}~sub.1 (nest) failed at deeper > deeper > deeper > … (5 more) > deeper > deeper > post: post: the ledger is locked`,
    });
  });

  it('through map items: the path names each item (`step[index]`), and stays short', async () => {
    const def = failingAt('mnest', 20, 'map');
    const e = engine([def], [locked]);
    const run = await e.start(def, { input: { d: 0 } });
    expect(run.failure).toMatchObject({ kind: 'tool_error', step: 'deeper' });
    // Item 0 of the top map (its run at depth 1) started the run at depth 2, and so on: 20 levels of runs of mnest.
    expect(run.failure?.message).toBe(
      'map "deeper": 1 of 1 items failed (tolerated: 0); item 0 failed at again > deeper[0] > again > … (34 more) > deeper[0] > again > post: post: the ledger is locked',
    );
    for (const r of await tree(e.store, run.runId)) expect(r.failure!.message.length - r.id.length).toBeLessThan(220);
  });

  it('through parallel branches: the branch step is on the path, and the message stays short', async () => {
    const def = failingAt('pnest', 20, 'parallel');
    const e = engine([def], [locked]);
    const run = await e.start(def, { input: { d: 0 } });
    expect(run.failure).toMatchObject({ kind: 'tool_error', step: 'deeper' });
    expect(run.failure?.message).toBe(
      `branch "left" failed at step "sub": the child run ${run.runId}~sub.1 (pnest) failed at deeper > sub > deeper > … (33 more) > deeper > sub > post: post: the ledger is locked`,
    );
    for (const r of await tree(e.store, run.runId)) expect(r.failure!.message.length - r.id.length).toBeLessThan(260);
  });
});
