/**
 * Several `stepwise worker` processes against the real PostgreSQL server, one
 * killed with SIGKILL mid-run and one drained with SIGTERM: every run
 * finishes, each completed step ran once, the drained worker released its
 * leases, the dead one's runs were taken over when its lease expired. Runs are
 * enqueued with `run --detach` (the contract: status `running`, exit 0) and
 * with `engine.start({ detach: true })`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDefinition } from '../../src/definition/load.js';
import { createEngine } from '../../src/engine/engine.js';
import { RATE_LIMIT_KEY } from '../../src/engine/rate-limiter.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { HEAVY_BUDGET_MS, waitFor } from '../budgets.js';
import { PG_URL as URL, testSchemas } from '../pg.js';
import { checkEffects, crashDefinition } from './crash-harness.js';
import { cli, finish, lastJson, startCli, waitForStderr } from './cli.js';
import { journalProblems } from './helpers.js';

const schemas = testSchemas('workers');
const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-workers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The SQLite and PostgreSQL cases share nothing (own file, schema, effects file): they run side by side.
describe.concurrent('workers on one SQLite file', () => {
  it('two worker processes share a SQLite file: every run finishes once, no step runs twice', { timeout: HEAVY_BUDGET_MS }, async () => {
    const file = path.join(dir, 'workers.db');
    const store = createSqliteStore({ path: file });
    const effects = path.join(dir, 'sqlite-effects');
    try {
      const engine = createEngine({ store, model: { apiKey: 'unused' } });
      const definition = await loadDefinition(crashDefinition);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push((await engine.start(definition, { runId: `s-${i}`, input: { order: `s-${i}` }, detach: true })).runId);
      const args = ['worker', '--emulator', '--store', `sqlite:${file}`, '--concurrency', '3', '--poll', '50ms', '--exit-when-idle', '--faults', 'latency=30'];
      const results = await Promise.all([cli(args, { STEPWISE_TEST_EFFECTS: effects }), cli(args, { STEPWISE_TEST_EFFECTS: effects })]);
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const text = readFileSync(effects, 'utf8');
      for (const id of ids) {
        expect((await store.get(id))?.status).toBe('done');
        const journal = await store.journal(id);
        expect(journalProblems(journal), id).toEqual([]);
        const check = checkEffects(id, journal, text.split('\n').filter((l) => l.startsWith(`${id}:`)).join('\n'));
        expect(check.effectProblems, id).toEqual([]);
        expect(check.completedReruns + check.sameKeyReruns, id).toBe(0);
      }
    } finally {
      await store.close();
    }
  });
});

describe.concurrent('workers on PostgreSQL', () => {
  it('three worker processes, one killed and one drained mid-run: every run finishes, each completed step once', { timeout: HEAVY_BUDGET_MS }, async () => {
    const schema = schemas.name();
    const spec = `postgres:${URL}?schema=${schema}`;
    const store = createPostgresStore({ url: URL, schema, pool: 3 });
    await store.migrate();
    const effects = path.join(dir, 'effects');
    const env = { STEPWISE_TEST_EFFECTS: effects };
    try {
      const detached = await cli(['run', crashDefinition, '--id', 'w-cli', '--detach', '--store', spec, '--input', '{"order":"w-cli"}', '--json']);
      expect(detached.code, detached.stderr).toBe(0);
      expect(lastJson(detached.stdout)).toMatchObject({ runId: 'w-cli', status: 'running' });
      const again = await cli(['run', crashDefinition, '--id', 'w-cli', '--detach', '--store', spec, '--input', '{"order":"w-cli"}', '--json']);
      expect(lastJson(again.stdout)).toMatchObject({ runId: 'w-cli', status: 'running', createdAt: lastJson(detached.stdout)['createdAt'] });

      const engine = createEngine({ store, model: { apiKey: 'unused' } });
      const definition = await loadDefinition(crashDefinition);
      const ids = ['w-cli'];
      for (let i = 0; i < 13; i++) {
        const run = await engine.start(definition, { runId: `w-${i}`, input: { order: `w-${i}` }, detach: true });
        ids.push(run.runId);
      }

      const args = ['worker', '--emulator', '--store', spec, '--concurrency', '2', '--lease', '1s', '--poll', '50ms', '--exit-when-idle', '--faults', 'latency=60', '--rpm', '6000'];
      // One worker dies (SIGKILL) between a tool's return and the commit of its third step.
      const [killed, drained, survivor] = [startCli(args, { ...env, STEPWISE_CRASH_AT: 'after-tool:3' }), startCli(args, env), startCli(args, env)];
      const results = [finish(killed), finish(drained), finish(survivor)];
      await Promise.all([drained, survivor].map((w) => waitForStderr(w, 'working runs')));
      const k = await results[0]!;
      expect(k.signal).toBe('SIGKILL');
      const orphaned = (await store.list()).filter((r) => r.lease?.owner.includes(`:${killed.pid}:`));
      expect(orphaned.length).toBeGreaterThan(0);
      // Drain the second worker while it holds runs, however slowly the machine got it there.
      const holds = async (pid: number | undefined) => (await store.list()).some((r) => r.lease?.owner.includes(`:${pid}:`));
      await waitFor(async () => drained.exitCode !== null || (await holds(drained.pid)), 'the second worker to hold a run');
      expect(drained.exitCode, 'the second worker exited before it held a run').toBeNull();
      drained.kill('SIGTERM');
      const d = await results[1];
      expect(d!.code, d!.stderr).toBe(0);
      expect(d!.stderr).toContain('draining');
      // The drained worker let go of everything it held.
      const held = (await store.list()).filter((r) => r.lease?.owner.includes(`:${drained.pid}:`));
      expect(held).toEqual([]);

      const s = await results[2]!;
      expect(s.code, s.stderr).toBe(0);
      const runs = await store.list();
      expect(runs.map((r) => [r.id, r.status]).sort()).toEqual(ids.map((id) => [id, 'done']).sort());
      let completedReruns = 0;
      let sameKey = 0;
      let takenOver = 0;
      const text = existsSync(effects) ? readFileSync(effects, 'utf8') : '';
      for (const id of ids) {
        const journal = await store.journal(id);
        expect(journalProblems(journal), id).toEqual([]);
        const lines = text.split('\n').filter((l) => l.startsWith(`${id}:`)).join('\n');
        const check = checkEffects(id, journal, lines);
        expect(check.effectProblems, id).toEqual([]);
        completedReruns += check.completedReruns;
        sameKey += check.sameKeyReruns;
        if (journal.some((e) => e.event === 'started' && (e.data as { rerun?: boolean } | undefined)?.rerun)) takenOver++;
      }
      console.log(`workers (PostgreSQL): runs ${ids.length}, workers 3, killed 1 (holding ${orphaned.length} runs), drained 1, runs re-entered mid-step ${takenOver}, completed steps re-run ${completedReruns}, attempts re-run with the same key ${sameKey}, runs lost 0`);
      expect(completedReruns).toBe(0);
      expect(takenOver).toBeGreaterThan(0);
      // The shared rate limit lives in the store.
      expect(await store.updateShared(RATE_LIMIT_KEY, (v) => v)).toMatchObject({ requests: expect.any(Number) });
    } finally {
      await store.close();
      await schemas.drop(schema);
    }
  });
});
