/**
 * What a run costs the SQLite store, counted through the real engine on a real
 * file: the write transactions of a run, and the lease a run that ends lets go
 * of in its last commit (no transaction of its own), while a run that rests
 * at a wait or fails still releases (or keeps) it as before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { createSqliteStore, type SqliteSynchronous } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';

const echo = defineTool({ name: 'echo', description: 'Echoes', input: z.object({ n: z.number() }), run: ({ n }) => ({ n }) });
const definition = loadDefinitionFromObject(
  {
    id: 'three',
    steps: {
      a: { tool: 'echo', with: { n: 1 }, next: 'b' },
      b: { tool: 'echo', with: { n: '{% $steps.a.output.n + 1 %}' }, next: 'c' },
      c: { tool: 'echo', with: { n: '{% $steps.b.output.n + 1 %}' }, next: 'hold' },
      hold: { choice: [{ when: '{% $input.wait %}', next: 'wait' }, { next: 'done' }] },
      wait: { wait: { on: { GO: 'done' } } },
      done: { final: true, output: '{% $steps.c.output %}' },
    },
  },
  [echo],
  'three',
);

let dir: string;
let path: string;
let store: Store;
let transactions: Array<{ writes: number; synchronous: SqliteSynchronous }>;
let engine: Engine;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stepwise-writes-'));
  path = join(dir, 'runs.db');
  transactions = [];
  store = createSqliteStore({ path, hooks: { committed: (t) => transactions.push(t) } });
  engine = createEngine({ store, tools: [echo], clock: new ManualClock({ autoAdvance: true }), model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function storedLease(runId: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT lease_owner, lease_until FROM runs WHERE id = ?').get(runId);
  } finally {
    db.close();
  }
}

describe('SQLite store: write transactions of a run', () => {
  it('a run that ends lets go of its lease in its last commit: its create carries the first start, then one commit per step, no release', async () => {
    const view = await engine.start(definition, { runId: 'ends', input: { wait: false } });
    expect(view.status).toBe('done');
    expect(view.output).toEqual({ n: 3 });
    // The create with the first step's start, three completions (each with the next start or the end).
    expect(transactions.map((t) => t.synchronous)).toEqual(['NORMAL', 'FULL', 'FULL', 'FULL']);
    expect((await store.journal('ends')).slice(0, 2).map((e) => [e.seq, e.step, e.event])).toEqual([[1, null, 'created'], [2, 'a', 'started']]);
    expect(storedLease('ends')).toEqual({ lease_owner: null, lease_until: null });
    expect((await store.get('ends'))?.lease).toBeNull();
  });

  it('a run that rests at a wait releases its lease when the command ends, and the next command takes it and lets go at the end', async () => {
    const parked = await engine.start(definition, { runId: 'waits', input: { wait: true } });
    expect(parked.status).toBe('waiting');
    expect(storedLease('waits')).toEqual({ lease_owner: null, lease_until: null });
    const released = transactions.length;
    const done = await engine.send('waits', 'GO');
    expect(done.status).toBe('done');
    expect(storedLease('waits')).toEqual({ lease_owner: null, lease_until: null });
    // The acquire, then the commit that delivers the event and ends the run: no release after it.
    expect(transactions.length - released).toBe(2);
  });

  it('a cancelled run lets go of its lease too, and another owner can take it', async () => {
    await engine.start(definition, { runId: 'cancelled', input: { wait: true } });
    const cancelled = await engine.cancel('cancelled', 'no longer needed');
    expect(cancelled.status).toBe('cancelled');
    expect(storedLease('cancelled')).toEqual({ lease_owner: null, lease_until: null });
    expect(await store.acquire('cancelled', 'someone', 1, 1_000)).toBe(true);
    await store.release('cancelled', 'someone');
    expect(storedLease('cancelled')).toEqual({ lease_owner: null, lease_until: null });
  });
});
