/**
 * Crash safety: real `stepwise run` processes killed with SIGKILL at every
 * moment the durability promise covers — at named crash points (an attempt's
 * start committed, mid model call, mid tool call, between a tool's return and
 * the commit, inside a commit transaction, during a backoff, during a wait) and
 * at random times while the emulator's `latency` fault keeps calls in flight —
 * then recovered with `stepwise resume`. SQLite (one file shared by four
 * processes at a time) and the real PostgreSQL server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/store/postgres.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { HEAVY_BUDGET_MS } from '../budgets.js';
import { PG_URL, testSchemas } from '../pg.js';
import { report, runAll, runScenario, type Scenario } from './crash-harness.js';

const schemas = testSchemas('crash');
const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Targeted points: every moment the issue names, at several positions in the run. */
const targeted = [
  'step-started:1', 'step-started:2', 'step-started:3', 'step-started:4',
  'mid-model:1@25',
  'mid-tool:1@25', 'mid-tool:2@25', 'mid-tool:3@25',
  'after-tool:1', 'after-tool:2', 'after-tool:3', 'after-tool:4',
  'mid-commit:1', 'mid-commit:2', 'mid-commit:3', 'mid-commit:4', 'mid-commit:5', 'mid-commit:6',
  'backoff:1@60',
  'waiting:1',
];
const waits = (crashAt: string) => crashAt.startsWith('waiting');

/** Deterministic "random" kill times over the whole run (process start ~350 ms, run ~1 s). */
function randomKills(prefix: string, count: number, seed: number): Scenario[] {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: count }, (_, i) => ({
    runId: `${prefix}-random-${i}`,
    crashAt: null,
    killAfterMs: 300 + Math.floor(next() * 900),
    wait: i % 4 === 0,
    // Every third run's first recovery is killed too, at a random time.
    ...(i % 3 === 1 ? { killResumeAfterMs: 300 + Math.floor(next() * 700) } : {}),
  }));
}

function expectSafe(label: string, outcomes: Awaited<ReturnType<typeof runAll>>, minKills: number) {
  const line = report(label, outcomes);
  console.log(line);
  const broken = outcomes.filter((o) => o.problems.length > 0);
  if (broken.length) console.log(broken.slice(0, 5).map((o) => `${o.scenario.runId}: ${o.problems.join(' | ')}`).join('\n'));
  for (const o of outcomes) expect(o.problems, `${o.scenario.runId} (${o.scenario.crashAt ?? `kill after ${o.scenario.killAfterMs} ms`})`).toEqual([]);
  expect(outcomes.filter((o) => o.status !== 'done')).toEqual([]);
  expect(outcomes.reduce((n, o) => n + o.completedReruns, 0)).toBe(0);
  // Every targeted point is reached in this workflow, so each of those runs was killed.
  for (const o of outcomes.filter((o) => o.scenario.crashAt)) expect(o.killed, `${o.scenario.crashAt} did not kill`).toBe(true);
  expect(outcomes.filter((o) => o.killed).length).toBeGreaterThanOrEqual(minKills);
}

// SQLite and PostgreSQL share nothing (their own file, schema and run ids): the two run side by side.
describe.concurrent('crash safety', () => {
  it('SQLite: runs killed at every crash point and at random times all finish, no completed step re-runs', { timeout: HEAVY_BUDGET_MS }, async () => {
    const store = `sqlite:${path.join(dir, 'shared.db')}`;
    const reader = createSqliteStore({ path: path.join(dir, 'shared.db') });
    const scenarios: Scenario[] = [
      ...targeted.map((crashAt, i) => ({ runId: `sq-${i}-${crashAt.replace(/[:@]/g, '-')}`, crashAt, wait: waits(crashAt) })),
      ...randomKills('sq', 24, 7),
    ];
    try {
      const outcomes = await runAll(scenarios, 4, (s) => runScenario(s, store, dir, () => reader));
      expectSafe('crash safety (SQLite)', outcomes, targeted.length + 12);
    } finally {
      await reader.close();
    }
  });

  it('PostgreSQL: killed runs, including mid-transaction, all finish on the real server', { timeout: HEAVY_BUDGET_MS }, async () => {
    const url = PG_URL;
    const schema = schemas.name();
    const reader: Store = createPostgresStore({ url, schema, pool: 2 });
    await reader.migrate();
    const points = ['step-started:2', 'mid-model:1@25', 'mid-tool:2@25', 'after-tool:2', 'mid-commit:1', 'mid-commit:3', 'mid-commit:5', 'backoff:1@60', 'waiting:1'];
    const scenarios: Scenario[] = [
      ...points.map((crashAt, i) => ({ runId: `pg-${i}-${crashAt.replace(/[:@]/g, '-')}`, crashAt, wait: waits(crashAt) })),
      ...randomKills('pg', 5, 11),
    ];
    try {
      const outcomes = await runAll(scenarios, 3, (s) => runScenario(s, `postgres:${url}?schema=${schema}`, dir, () => reader));
      expectSafe('crash safety (PostgreSQL)', outcomes, points.length + 2);
    } finally {
      await reader.close();
      await schemas.drop(schema);
    }
  });
});
