/**
 * A rerun of a child run (a `workflow` step's run) is a new top-level run of the child's workflow, with the child's
 * input: it carries no link to the old parent (which would cancel it once it rests, as an orphan of a step its
 * "parent" left, and hide it from top-level listings), nor the budget share that parent gave the child. Real engine
 * on a real SQLite file; time through the ManualClock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { rerun } from '../../src/engine/rerun.js';
import { findRun } from '../../src/query/run.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import { doublerDefinition } from '../kinds/fixtures/doubler.js';

const calls: string[] = [];
const double = defineTool({
  name: 'double',
  description: 'Doubles a number',
  input: z.object({ n: z.number() }),
  run: ({ n }, ctx) => {
    calls.push(ctx.idempotencyKey);
    return { n: n * 2 };
  },
});
const tools = [double];

/** A child that doubles, then has a child of its own double again. */
const middle = loadDefinitionFromObject(
  {
    id: 'middle',
    steps: {
      one: { tool: 'double', with: { n: '{% $input.n %}' } },
      two: { workflow: { id: 'doubler', input: { n: '{% $steps.one.output.n %}' } } },
      done: { final: true, output: '{% $steps.two.output %}' },
    },
  },
  tools,
  'middle',
);
/** A child that doubles, waits for OK, then doubles again. */
const gated = loadDefinitionFromObject(
  {
    id: 'gated',
    steps: {
      one: { tool: 'double', with: { n: '{% $input.n %}' } },
      gate: { wait: { on: { OK: 'two' } } },
      two: { tool: 'double', with: { n: '{% $steps.one.output.n %}' } },
      done: { final: true, output: '{% $steps.two.output %}' },
    },
  },
  tools,
  'gated',
);
const parentOf = (child: string) =>
  loadDefinitionFromObject(
    { id: `parent-${child}`, budget: { tokens: 20000 }, steps: { sub: { workflow: { id: child, input: { n: '{% $input.n %}' } }, next: 'done' }, done: { final: true, output: '{% $steps.sub.output %}' } } },
    tools,
    `parent-${child}`,
  );

let dir: string | undefined;
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function engine(): Engine {
  dir = mkdtempSync(join(tmpdir(), 'stepwise-rerun-child-'));
  const store = createSqliteStore({ path: join(dir, 'runs.db') });
  stores.push(store);
  return createEngine({ store, tools, workflows: [doublerDefinition(tools), middle, gated], model: { apiKey: 'unused' }, clock: new ManualClock({ autoAdvance: true }) });
}

describe('rerun of a child run', () => {
  it('is a top-level run of the child workflow: listed as one, not a second child of the old parent, its id prefix its own', async () => {
    const e = engine();
    const parent = await e.start(parentOf('middle'), { input: { n: 3 } });
    expect(parent.status).toBe('done');
    expect(parent.output).toEqual({ n: 12 });
    const [child] = await e.store.list({ parentId: parent.runId });
    expect(child?.options.parent).toMatchObject({ runId: parent.runId, step: 'sub' });
    expect(child?.options.budget).toBeDefined(); // the share its parent gave it

    const again = await rerun(e, child!.id, 'two');
    expect(again.status).toBe('done');
    expect(again.workflow).toBe('middle');
    expect(again.output).toEqual({ n: 12 });
    const record = (await e.store.get(again.runId))!;
    expect(record.input).toEqual({ n: 3 });
    expect(record.options.parent).toBeUndefined();
    expect(record.options.budget).toBeUndefined();
    // Its own child run (from `two`), under it.
    expect((await e.store.list({ parentId: again.runId })).map((r) => r.workflow)).toEqual(['doubler']);
    // A top-level run; the old parent keeps its one child.
    expect((await e.store.list({ parentId: null })).map((r) => r.id).sort()).toEqual([parent.runId, again.runId].sort());
    expect((await e.store.list({ parentId: parent.runId })).map((r) => r.id)).toEqual([child!.id]);
    // A prefix of its id matches it and its own child: it means the run.
    expect((await findRun(e.store, again.runId.slice(0, 8))).id).toBe(again.runId);
  });

  it('that comes to a wait rests there (not cancelled as an orphan of the old parent) and goes on when sent the event', async () => {
    const e = engine();
    const waiting = await e.start(parentOf('gated'), { input: { n: 5 } });
    expect(waiting.status).toBe('waiting');
    expect((await e.send(waiting.runId, 'OK')).status).toBe('done');
    const [child] = await e.store.list({ parentId: waiting.runId });

    calls.length = 0;
    const again = await rerun(e, child!.id, 'one');
    expect(again.status).toBe('waiting');
    expect(calls).toHaveLength(1);
    expect((await e.store.get(again.runId))?.status).toBe('waiting');
    const done = await e.send(again.runId, 'OK');
    expect(done.status).toBe('done');
    expect(done.output).toEqual({ n: 20 });
  });
});
