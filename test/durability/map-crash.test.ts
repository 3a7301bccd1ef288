/**
 * Kill -9 during a map with concurrency: a real `stepwise run` process is
 * killed at crash points reached while several items run at once, then the
 * run is recovered with `stepwise resume`. It finishes with every item's
 * output; no completed item (child run) runs again, no item gets a second
 * child run, and every child's journal is whole. SQLite file and PostgreSQL.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/store/postgres.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { HEAVY_BUDGET_MS } from '../budgets.js';
import { PG_URL, testSchemas } from '../pg.js';
import { checkEffects } from './crash-harness.js';
import { killThenRecover } from './cli.js';
import { journalProblems } from './helpers.js';

const definition = path.join(import.meta.dirname, 'fixtures/map-crash.yaml');
const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-map-crash-'));
const schemas = testSchemas('mapcrash');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LINES = [1, 2, 3, 4, 5, 6, 7];

async function killAndRecover(runId: string, crashAt: string, store: string, reader: Store): Promise<string[]> {
  const effects = path.join(dir, `${runId}.effects`);
  const args = ['run', definition, '--id', runId, '--store', store, '--emulator', '--input', JSON.stringify({ order: runId, lines: LINES }), '--json'];
  const problems: string[] = [];
  const status = await killThenRecover({
    runId,
    args,
    store,
    crashAt,
    env: { STEPWISE_TEST_EFFECTS: effects },
    exists: async () => Boolean(await reader.get(runId)),
    problems,
  });
  const run = await reader.get(runId);
  if (status !== 'done' || run?.status !== 'done') problems.push(`run ended ${status}`);
  else if (JSON.stringify(run.output) !== JSON.stringify({ order: runId, totals: LINES.map((q) => q * 10) })) problems.push(`output ${JSON.stringify(run.output)}`);
  problems.push(...journalProblems(await reader.journal(runId)));
  const children = await reader.list({ parentId: runId });
  // One child run per item: a completed or interrupted item is never started again as a new run.
  if (children.length !== LINES.length) problems.push(`${children.length} child runs for ${LINES.length} items`);
  const text = existsSync(effects) ? readFileSync(effects, 'utf8') : '';
  for (const child of children) {
    if (child.status !== 'done') problems.push(`item ${child.options.parent?.index} ended ${child.status}`);
    const journal = await reader.journal(child.id);
    problems.push(...journalProblems(journal).map((p) => `${child.id}: ${p}`));
    const own = text.split('\n').filter((line) => line.startsWith(`${child.id}:`)).join('\n');
    const { completedReruns, effectProblems } = checkEffects(child.id, journal, own);
    if (completedReruns > 0) problems.push(`${child.id}: ${completedReruns} completed step(s) ran again`);
    problems.push(...effectProblems.map((p) => `${child.id}: ${p}`));
  }
  return problems;
}

/** Points reached while items run side by side: an item's tool returned, an attempt committed, mid tool, mid commit. */
const points = ['after-tool:3', 'step-started:5', 'mid-tool:4@20', 'mid-commit:9', 'mid-model:4'];

// The two backends share nothing: their tests run side by side.
describe.concurrent('kill -9 during a map with concurrency', () => {
  it('SQLite: every killed run resumes to done with no completed item re-run', { timeout: HEAVY_BUDGET_MS }, async () => {
    const file = path.join(dir, 'map.db');
    const reader = createSqliteStore({ path: file });
    try {
      // Independent runs (own ids, own effects files) on the one file, killed and recovered side by side.
      const problems = await Promise.all(points.map((point, i) => killAndRecover(`map-sq-${i}`, point, `sqlite:${file}`, reader)));
      for (const [i, point] of points.entries()) expect(problems[i], point).toEqual([]);
    } finally {
      await reader.close();
    }
  });

  it('PostgreSQL: the same on the real server', { timeout: HEAVY_BUDGET_MS }, async () => {
    const schema = schemas.name();
    const reader = createPostgresStore({ url: PG_URL, schema, pool: 2 });
    await reader.migrate();
    try {
      const pgPoints = ['after-tool:3', 'mid-commit:9'];
      const problems = await Promise.all(pgPoints.map((point, i) => killAndRecover(`map-pg-${i}`, point, `postgres:${PG_URL}?schema=${schema}`, reader)));
      for (const [i, point] of pgPoints.entries()) expect(problems[i], point).toEqual([]);
    } finally {
      await reader.close();
      await schemas.drop(schema);
    }
  });
});
