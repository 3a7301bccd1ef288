/**
 * Resume of a `workflow` step after a crash around its child's creation,
 * through the real engine on a real SQLite file and on a real PostgreSQL
 * schema (the same cases on each): the parent step's start is committed
 * before the child run exists (as every work step's start is), so a crash
 * between the two leaves a parent whose step runs without a child. A
 * resume creates the child then, once; a resume that finds the child adopts
 * it. The crash is a store that dies at that write (the first engine is then
 * dropped, as a dead process would be); a second engine on a new store over
 * the same file or schema resumes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import { doublerDefinition } from './fixtures/doubler.js';
import { PG_URL, testSchemas } from '../pg.js';

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

const childDef = doublerDefinition(tools);
const parentDef = loadDefinitionFromObject(
  {
    id: 'parent',
    steps: {
      sub: { workflow: { id: 'doubler', input: { n: '{% $input.n + 1 %}' } }, next: 'done' },
      done: { final: true, output: '{% $steps.sub.output.n %}' },
    },
  },
  tools,
  'parent',
);

/** The crash: the store dies (throws, and every later write too) at the first write that `dies` picks. */
function dyingStore(store: Store, dies: { create?: (id: string, parent: boolean) => boolean; commit?: (id: string) => boolean }): Store {
  let dead = false;
  const die = () => {
    dead = true;
    throw new Error('process killed');
  };
  return Object.assign(Object.create(store) as Store, {
    create: async (...args: Parameters<Store['create']>) => {
      if (dead || dies.create?.(args[0].id, args[0].options.parent !== undefined)) die();
      return store.create(...args);
    },
    commit: async (...args: Parameters<Store['commit']>) => {
      if (dead || dies.commit?.(args[0])) die();
      return store.commit(...args);
    },
  });
}

const schemas = testSchemas('wfresume');
const stores: Store[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const clean of cleanups.splice(0)) await clean();
  calls.length = 0;
});

/** Where one test's runs live; each call opens a new store on it (a new process's view of the same runs). */
type Opener = () => Store;

const backends: Record<'SQLite' | 'PostgreSQL', () => Opener> = {
  SQLite: () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-child-resume-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return () => createSqliteStore({ path: join(dir, 'runs.db') });
  },
  PostgreSQL: () => {
    const schema = schemas.name();
    cleanups.push(() => schemas.drop(schema));
    return () => createPostgresStore({ url: PG_URL, schema, pool: 2 });
  },
};

const engineOn = (store: Store, clock: ManualClock): Engine => createEngine({ store, tools, workflows: [childDef], clock, leaseMs: 1_000 });

describe.each(['SQLite', 'PostgreSQL'] as const)('resume of a workflow step after a crash around its child (%s)', (backend) => {
  let opener: Opener;
  beforeEach(() => {
    opener = backends[backend]();
  });
  const open = (): Store => {
    const store = opener();
    stores.push(store);
    return store;
  };

  it('a crash after the step start was committed and before the child was created: the resume creates the child, once', async () => {
    const clock = new ManualClock();
    const first = engineOn(dyingStore(open(), { create: (_id, child) => child }), clock);
    await expect(first.start(parentDef, { runId: 'p1', input: { n: 20 } })).rejects.toThrow('process killed');

    const store = open();
    // The parent's step start is durable; no child exists yet.
    const stored = await store.get('p1');
    expect(stored?.status).toBe('running');
    const started = (await store.journal('p1')).filter((j) => j.step === 'sub' && j.event === 'started');
    expect(started).toHaveLength(1);
    expect(started[0]?.data).toMatchObject({ child: 'p1~sub.1', workflow: 'doubler' });
    expect(await store.list({ parentId: 'p1' })).toEqual([]);

    clock.advance(2_000); // the dead process's lease expires
    const resumed = await engineOn(store, clock).resume('p1');
    expect(resumed.status).toBe('done');
    expect(resumed.output).toBe(42);
    const children = await store.list({ parentId: 'p1' });
    expect(children.map((c) => [c.id, c.status])).toEqual([['p1~sub.1', 'done']]);
    expect((await store.journal('p1~sub.1')).filter((j) => j.event === 'created')).toHaveLength(1);
    expect(calls).toHaveLength(1);
  });

  it('a crash after the child was created, before it ran: the resume adopts that child and creates no second', async () => {
    const clock = new ManualClock();
    const first = engineOn(dyingStore(open(), { commit: (id) => id.includes('~') }), clock);
    await expect(first.start(parentDef, { runId: 'p2', input: { n: 1 } })).rejects.toThrow('process killed');

    const store = open();
    const [child] = await store.list({ parentId: 'p2' });
    expect(child?.id).toBe('p2~sub.1');
    expect(child?.revision).toBe(0);
    expect(calls).toEqual([]);

    clock.advance(2_000);
    const resumed = await engineOn(store, clock).resume('p2');
    expect(resumed.status).toBe('done');
    expect(resumed.output).toBe(4);
    const children = await store.list({ parentId: 'p2' });
    expect(children.map((c) => [c.id, c.status])).toEqual([['p2~sub.1', 'done']]);
    expect((await store.journal('p2~sub.1')).filter((j) => j.event === 'created')).toHaveLength(1);
    expect(calls).toHaveLength(1);
  });

  it('a crash while the child ran: the resume goes on with the same child, whose completed steps do not run again', async () => {
    const clock = new ManualClock();
    let childCommits = 0;
    // The child's second commit is its completed tool step: the tool ran, its result is lost with the process.
    const first = engineOn(dyingStore(open(), { commit: (id) => id.includes('~') && ++childCommits === 2 }), clock);
    await expect(first.start(parentDef, { runId: 'p3', input: { n: 2 } })).rejects.toThrow('process killed');
    expect(calls).toHaveLength(1);

    const store = open();
    clock.advance(2_000);
    const resumed = await engineOn(store, clock).resume('p3');
    expect(resumed.status).toBe('done');
    expect(resumed.output).toBe(6);
    expect((await store.list({ parentId: 'p3' })).map((c) => c.id)).toEqual(['p3~sub.1']);
    // The interrupted attempt ran again with its idempotency key: at least once, never under a new key.
    expect(new Set(calls).size).toBe(1);
  });
});
