/**
 * `stepwise worker` processes whose `ship` tool blocks the event loop longer
 * than the lease (STEPWISE_TEST_BLOCK_MS, first call of each attempt), on
 * SQLite and the real PostgreSQL server: two workers share the runs, and a
 * worker killed mid-block is recovered with `stepwise resume`. Every run
 * finishes, no completed step runs again, every same-key re-run is journaled,
 * and no worker ever drives a run twice ("changed underneath").
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDefinition } from '../../src/definition/load.js';
import { createEngine } from '../../src/engine/engine.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { checkEffects, crashDefinition } from './crash-harness.js';
import { cli, finish, lastJson, startCli } from './cli.js';
import { journalProblems } from './helpers.js';
import { PG_URL as URL, testSchemas } from '../pg.js';

const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-blocking-'));
const schemas = testSchemas('blocking');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const backends: Record<'sqlite' | 'postgres', () => Promise<{ store: Store; spec: string }>> = {
  sqlite: async () => {
    const file = path.join(dir, `blocking-${++n}.db`);
    return { store: createSqliteStore({ path: file }), spec: `sqlite:${file}` };
  },
  postgres: async () => {
    const schema = schemas.name();
    const store = createPostgresStore({ url: URL, schema, pool: 3 });
    await store.migrate();
    return { store, spec: `postgres:${URL}?schema=${schema}` };
  },
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function enqueue(store: Store, prefix: string, count: number): Promise<string[]> {
  const engine = createEngine({ store, model: { apiKey: 'unused' } });
  const definition = await loadDefinition(crashDefinition);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await engine.start(definition, { runId: `${prefix}-${i}`, input: { order: `${prefix}-${i}` }, detach: true })).runId);
  return ids;
}

/** Every run done, its journal sound, its side effects matching the journal, no completed step run again. */
async function expectSound(store: Store, ids: readonly string[], effects: string): Promise<void> {
  const text = existsSync(effects) ? readFileSync(effects, 'utf8') : '';
  for (const id of ids) {
    expect((await store.get(id))?.status, id).toBe('done');
    const journal = await store.journal(id);
    expect(journalProblems(journal), id).toEqual([]);
    const check = checkEffects(id, journal, text.split('\n').filter((l) => l.startsWith(`${id}:`)).join('\n'));
    expect(check.effectProblems, id).toEqual([]);
    if (check.completedReruns) console.log(id, JSON.stringify(journal.map((e) => [e.seq, e.event, e.step, e.attempt, e.at, e.data])), text.split('\n').filter((l) => l.startsWith(`${id}:`)).join('|'));
    expect(check.completedReruns, id).toBe(0);
  }
}

// Every test has its own store and effects file: all run side by side.
describe.concurrent.each(['sqlite', 'postgres'] as const)('a tool that blocks longer than the lease (%s)', (backend) => {
  it('two workers: every run finishes, no worker drives a run twice', { timeout: 180_000 }, async () => {
    const { store, spec } = await backends[backend]();
    const effects = path.join(dir, `${backend}-two.effects`);
    try {
      const ids = await enqueue(store, `${backend}-two`, 6);
      // One run at a time per worker: a blocked call stalls only its own run, so every call starts under a live lease.
      const args = ['worker', '--emulator', '--store', spec, '--concurrency', '1', '--lease', '1s', '--poll', '50ms', '--exit-when-idle'];
      const env = { STEPWISE_TEST_EFFECTS: effects, STEPWISE_TEST_BLOCK_MS: '1500' };
      const results = await Promise.all([cli(args, env), cli(args, env)]);
      for (const r of results) {
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).not.toContain('changed underneath');
        expect(r.stderr).toMatch(/ 0 errors/);
      }
      await expectSound(store, ids, effects);
      // Every ship attempt blocked once, past the lease.
      const text = readFileSync(effects, 'utf8');
      for (const id of ids) expect(text).toContain(`${id}:ship:`);
    } finally {
      await store.close();
    }
  });

  it('a worker killed while its tool blocks: resume finishes every run, the blocked attempt re-runs with its key', { timeout: 180_000 }, async () => {
    const { store, spec } = await backends[backend]();
    const effects = path.join(dir, `${backend}-kill.effects`);
    try {
      const ids = await enqueue(store, `${backend}-kill`, 3);
      const env = { STEPWISE_TEST_EFFECTS: effects, STEPWISE_TEST_BLOCK_MS: '3000' };
      const worker = startCli(['worker', '--emulator', '--store', spec, '--concurrency', '3', '--lease', '1s', '--poll', '50ms', '--exit-when-idle'], env);
      const exited = finish(worker);
      // Kill it once a ship call is blocking (its effect is written before it blocks).
      const giveUp = Date.now() + 120_000;
      while (!(existsSync(effects) && readFileSync(effects, 'utf8').includes(':ship:')) && Date.now() < giveUp) await sleep(20);
      worker.kill('SIGKILL');
      expect((await exited).signal).toBe('SIGKILL');
      // One recovery per run, side by side: each blocks on its own first ship call.
      const resumed = await Promise.all(ids.map((id) => cli(['resume', id, '--emulator', '--store', spec, '--json'], env)));
      for (const [i, id] of ids.entries()) {
        expect(resumed[i]!.code, resumed[i]!.stderr).toBe(0);
        expect(lastJson(resumed[i]!.stdout)).toMatchObject({ runId: id, status: 'done' });
      }
      await expectSound(store, ids, effects);
      // The killed attempt ran again with the same key, and the journal says so.
      const blocked = readFileSync(effects, 'utf8').split('\n').find((l) => l.includes(':ship:'))!.split(' ')[0]!;
      const runId = ids.find((id) => blocked.startsWith(`${id}:`))!;
      const journal = await store.journal(runId);
      expect(journal.some((e) => e.event === 'started' && e.step === 'ship' && (e.data as { rerun?: boolean } | undefined)?.rerun)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
