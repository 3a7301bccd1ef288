/**
 * PostgreSQL connections killed under a live store (`pg_terminate_backend`, as a
 * server restart, a failover or an idle-session killer does): the operation in
 * flight fails with `store_failed`, nothing of it is written, the process does
 * not die of an unhandled client 'error', and the next operation works on a
 * new connection. Also while a worker drives a run: it reports the run and
 * finishes it later.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { StepwiseError } from '../../src/errors.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';
import { makeRun, patch } from '../../src/testing/store-fixtures.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';
import { PG_URL, testSchemas } from '../pg.js';

const schemas = testSchemas('pgterm');
const opened: Store[] = [];
afterAll(() => Promise.all(opened.map((s) => s.close().catch(() => {}))));

/**
 * Terminates every session of `application` (the store's connections), synchronously: the event loop is blocked
 * until the server has killed them, so the client holding one finds out only at its next read.
 */
function terminateSessions(application: string): number {
  const sql = `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '${application}' AND pid <> pg_backend_pid()`;
  const url = new URL(PG_URL);
  const result = spawnSync('psql', ['-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username), '-d', url.pathname.slice(1), '-Atc', sql], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return Number(result.stdout.trim());
}

/** A store on a fresh schema whose connections carry the schema as application_name; `midCommit` runs inside each commit's transaction. */
async function storeWith(midCommit: () => void): Promise<{ store: Store; application: string }> {
  const application = schemas.name();
  const store = await openStore(`${PG_URL}?schema=${application}&application_name=${application}`, { hooks: { midCommit } });
  opened.push(store);
  return { store, application };
}

describe('PostgreSQL store: a connection terminated mid-transaction', () => {
  it('fails the commit in flight with store_failed, writes nothing of it, and the next commit works', async () => {
    let armed = false;
    let killed = 0;
    const { store, application } = await storeWith(() => {
      if (!armed) return;
      armed = false;
      killed = terminateSessions(application);
    });
    const run = makeRun();
    await store.create(run, []);
    armed = true;
    const failure = await store.commit(run.id, patch({ status: 'running' }), [{ event: 'started', step: 'a', visit: 1, attempt: 1, at: 1 }], 0).then(
      () => null,
      (error: unknown) => error,
    );
    expect(killed).toBeGreaterThan(0);
    expect(failure).toBeInstanceOf(StepwiseError);
    expect(failure).toMatchObject({ code: 'store_failed' });
    expect((failure as Error).message).toContain(`postgres store`);
    expect((failure as Error).message).toContain(application);
    // Rolled back: the run is as it was, and its journal empty.
    expect((await store.get(run.id))?.revision).toBe(0);
    expect(await store.journal(run.id)).toEqual([]);
    // A new connection: the same commit goes through now.
    const next = await store.commit(run.id, patch({ status: 'running' }), [{ event: 'started', step: 'a', visit: 1, attempt: 1, at: 1 }], 0);
    expect(next.revision).toBe(1);
    expect(await store.journal(run.id)).toHaveLength(1);
  });

  it('a worker driving a run reports the failed commit with its run id, goes on, and finishes the run', async () => {
    const tool = defineTool({ name: 'echo', description: 'Echo.', input: z.object({ x: z.string() }), run: async ({ x }) => ({ x }) }) as unknown as AnyTool;
    const definition = loadDefinitionFromObject(
      { id: 'echoes', steps: { a: { tool: 'echo', with: { x: 'a' } }, b: { tool: 'echo', with: { x: 'b' } }, done: { final: true, output: '{% $steps.b.output.x %}' } } },
      [tool],
      'postgres-terminated.test',
    );
    let commits = 0;
    const { store, application } = await storeWith(() => {
      // The third commit of the drive (after step a's start and end): kill the store's connections under it.
      if (++commits === 3) terminateSessions(application);
    });
    const clock = new ManualClock({ autoAdvance: true });
    const engine = createEngine({ store, tools: [tool], clock, model: { apiKey: 'unused' } });
    const { runId } = await engine.start(definition, { input: {}, detach: true });
    const errors: Array<{ runId: string; error: unknown }> = [];
    const leaseMs = 1_000;
    const summary = await engine.work({
      exitWhenIdle: true,
      pollMs: 1,
      leaseMs,
      onError: (id, error) => {
        errors.push({ runId: id, error });
        clock.advance(leaseMs + 1); // the failed run's lease runs out: the worker claims it again
      },
    });
    expect(commits).toBeGreaterThan(3);
    expect(errors.length).toBeGreaterThan(0);
    // Every session was killed, the idle ones too: a claim made on one of those may fail first (reported with no run).
    expect(errors.every((e) => e.runId === runId || e.runId === '')).toBe(true);
    expect(errors.find((e) => e.runId === runId)?.error).toMatchObject({ code: 'store_failed' });
    for (const e of errors) expect(e.error).toMatchObject({ code: 'store_failed' });
    expect(summary.errors).toBe(errors.length);
    expect(await store.get(runId)).toMatchObject({ status: 'done', output: 'b', lease: null });
  });
});
