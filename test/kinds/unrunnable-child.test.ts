/**
 * A child definition the engine cannot compile (one handed to the engine
 * without validation: `engine.start({ workflow })`, `createEngine({ workflows })`)
 * fails the step that would start it, with a message naming what is wrong;
 * the run ends failed, never left `running` by an error escaping the drive.
 * A body that cannot be compiled is kept with the run's definition, so a
 * resume would meet it again: that failure (`definition_invalid`) is not
 * resumable, at any depth. Through the real engine on a real SQLite file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Workflow } from '../../src/definition/schema.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { defineTool } from '../../src/tools/define.js';
import { cli } from '../cli/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-unrunnable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const noModel = { baseURL: 'http://127.0.0.1:9', apiKey: 'unused', maxRetries: 0 };
let dbs = 0;
const echo = defineTool({ name: 'echo', description: 'Echo', input: z.object({ v: z.unknown() }), run: ({ v }) => ({ v }) });

function engineOn(workflows: Array<{ workflow: Workflow }> = []) {
  const store = createSqliteStore({ path: join(dir, `runs-${++dbs}.db`) });
  return { store, engine: createEngine({ store, tools: [echo], workflows, model: noModel, clock: new ManualClock({ autoAdvance: true }) }) };
}

/** A body whose parallel step routes a branch step to a step that does not exist: its machine cannot be built. */
const brokenBody = {
  inner: { parallel: { branches: { r: { steps: { u: { tool: 'echo', with: { v: 1 }, next: 'nowhere' } } } } } },
};

describe('a child definition that cannot be compiled', () => {
  it('a map body: the map step fails definition_invalid naming the body and the route; the run ends failed, not resumable', async () => {
    const { store, engine } = engineOn();
    const workflow = {
      id: 'unchecked',
      steps: { m: { map: { items: '{% $input.xs %}', steps: brokenBody }, next: 'done' }, done: { final: true } },
    } as unknown as Workflow;
    const run = await engine.start({ workflow, tools: [echo] }, { input: { xs: [1, 2] } });
    expect(run.status).toBe('failed');
    expect(run.failure).toMatchObject({ kind: 'definition_invalid', step: 'm' });
    expect(run.failure?.message).toMatch(/^map "m": its body cannot run: steps\.m\.map\.steps\.inner\.parallel\.branches\.r\.steps\.u\.next: "nowhere" is not a step of the map body/);
    expect((await store.get(run.runId))?.status).toBe('failed');
    expect(await store.list({ parentId: run.runId })).toEqual([]);
    // A resume would compile the same body (the definition is kept with the run): it is refused, and nothing is run.
    expect(run.resumable).toBe(false);
    expect((await engine.get(run.runId)).resumable).toBe(false);
    const journal = (await store.journal(run.runId)).length;
    await expect(engine.resume(run.runId)).rejects.toThrow(/failed with "definition_invalid", which a resume cannot fix/);
    expect((await store.journal(run.runId)).length).toBe(journal);
    await store.close();
    // The CLI on the same store says so too: `show` does not call it resumable, `resume` refuses it.
    const storeFlag = ['--store', `sqlite:${join(dir, `runs-${dbs}.db`)}`];
    const shown = await cli(['show', run.runId, ...storeFlag]);
    expect(shown.stdout).toMatch(/status failed {2}tokens/);
    expect(shown.stdout).toMatch(/failure: definition_invalid at m: map "m": its body cannot run/);
    const resumed = await cli(['resume', run.runId, ...storeFlag, '--emulator']);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toMatch(/failed with "definition_invalid", which a resume cannot fix/);
  });

  it('a map in a map body: the inner map fails its item, the outer map fails on that item; the run ends failed', async () => {
    const { store, engine } = engineOn();
    const workflow = {
      id: 'unchecked',
      steps: {
        outer: { map: { items: '{% $input.xs %}', steps: { m2: { map: { items: '{% [$input.item] %}', steps: brokenBody } } } }, next: 'done' },
        done: { final: true },
      },
    } as unknown as Workflow;
    const run = await engine.start({ workflow, tools: [echo] }, { input: { xs: [1] } });
    expect(run.status).toBe('failed');
    expect(run.failure?.step).toBe('outer');
    expect(run.failure?.message).toMatch(/item 0 failed at m2: map "m2": its body cannot run: steps\.m2\.map\.steps\.inner\.parallel\.branches\.r\.steps\.u\.next: "nowhere" is not a step of the map body/);
    const items = await store.list({ parentId: run.runId });
    expect(items.map((i) => [i.status, i.failure?.kind])).toEqual([['failed', 'definition_invalid']]);
    expect((await store.get(run.runId))?.status).toBe('failed');
    // The item cannot go on, so neither can the run.
    expect(run.failure?.kind).toBe('definition_invalid');
    expect(run.resumable).toBe(false);
    await store.close();
  });

  it('a workflow step whose child (given to the engine by id) cannot be compiled fails; the run ends failed', async () => {
    const child = { id: 'kid', steps: { a: { tool: 'echo', with: { v: 1 }, next: 'nowhere' }, done: { final: true } } } as unknown as Workflow;
    const { store, engine } = engineOn([{ workflow: child }]);
    const parent = { id: 'parent', steps: { sub: { workflow: { id: 'kid' }, next: 'done' }, done: { final: true } } } as unknown as Workflow;
    const run = await engine.start({ workflow: parent, tools: [echo] }, { input: {} });
    expect(run.status).toBe('failed');
    expect(run.failure).toMatchObject({ step: 'sub' });
    expect(run.failure?.message).toMatch(/steps\.a\.next: no step named "nowhere"/);
    expect((await store.get(run.runId))?.status).toBe('failed');
    await store.close();
  });

  it('a workflow step whose child (given by id) has a map body that cannot be compiled: the child and the run fail, neither resumable', async () => {
    const child = {
      id: 'kid',
      steps: { m: { map: { items: '{% [1] %}', steps: brokenBody }, next: 'done' }, done: { final: true } },
    } as unknown as Workflow;
    const { store, engine } = engineOn([{ workflow: child }]);
    const parent = { id: 'parent', steps: { sub: { workflow: { id: 'kid' }, next: 'done' }, done: { final: true } } } as unknown as Workflow;
    const run = await engine.start({ workflow: parent, tools: [echo] }, { input: {} });
    expect(run.status).toBe('failed');
    expect(run.failure).toMatchObject({ kind: 'definition_invalid', step: 'sub' });
    expect(run.resumable).toBe(false);
    const [kid] = await store.list({ parentId: run.runId });
    expect([kid?.status, kid?.failure?.kind]).toEqual(['failed', 'definition_invalid']);
    await expect(engine.resume(run.runId)).rejects.toThrow(/which a resume cannot fix/);
    await store.close();
  });

  it('a child named by an id no definition has stays resumable: once the definition is given, a resume runs it', async () => {
    const store = createSqliteStore({ path: join(dir, `runs-${++dbs}.db`) });
    const clock = new ManualClock({ autoAdvance: true });
    const parent = { id: 'parent', steps: { sub: { workflow: { id: 'kid' }, next: 'done' }, done: { final: true, output: '{% $steps.sub.output %}' } } } as unknown as Workflow;
    const before = createEngine({ store, tools: [echo], model: noModel, clock });
    const run = await before.start({ workflow: parent, tools: [echo] }, { input: {} });
    expect(run.failure).toMatchObject({ kind: 'invalid_data', step: 'sub' });
    expect(run.failure?.message).toMatch(/no workflow "kid" is known/);
    expect(run.resumable).toBe(true);
    const kid = { id: 'kid', steps: { done: { final: true, output: 7 } } } as unknown as Workflow;
    const after = createEngine({ store, tools: [echo], workflows: [{ workflow: kid }, { workflow: parent, tools: [echo] }], model: noModel, clock });
    const resumed = await after.resume(run.runId);
    expect(resumed).toMatchObject({ status: 'done', output: 7 });
    await store.close();
  });
});
