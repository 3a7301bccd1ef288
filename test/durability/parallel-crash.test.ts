/**
 * Crash safety inside a parallel step: real `stepwise run` processes with
 * three branches in flight (model calls, a tool in backoff, a slow tool),
 * killed with SIGKILL at the named crash points and at random times, then
 * recovered with `stepwise resume` on a shared SQLite file. Every run
 * finishes, no completed step runs again, every re-run kept its idempotency
 * key and is journaled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { HEAVY_BUDGET_MS } from '../budgets.js';
import { report, runAll, runScenario, type Scenario } from './crash-harness.js';

const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-parallel-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const definition = path.join(import.meta.dirname, 'fixtures/crash-parallel.yaml');

const targeted = [
  'step-started:1', 'step-started:2', 'step-started:3', 'step-started:5',
  'mid-model:1@25', 'mid-model:2@25',
  'mid-tool:1@25', 'mid-tool:2@25', 'mid-tool:3@25',
  'after-tool:1', 'after-tool:2', 'after-tool:3',
  'mid-commit:2', 'mid-commit:4', 'mid-commit:6',
  'backoff:1@60',
  'waiting:1',
];

describe('crash safety inside a parallel step', () => {
  it('SQLite: runs killed mid-parallel all finish, no completed step re-runs', { timeout: HEAVY_BUDGET_MS }, async () => {
    const store = `sqlite:${path.join(dir, 'shared.db')}`;
    const reader = createSqliteStore({ path: path.join(dir, 'shared.db') });
    let x = 5;
    const next = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const scenarios: Scenario[] = [
      ...targeted.map((crashAt, i) => ({ runId: `par-${i}-${crashAt.replace(/[:@]/g, '-')}`, crashAt, wait: crashAt.startsWith('waiting'), definition })),
      ...Array.from({ length: 8 }, (_, i) => ({ runId: `par-random-${i}`, crashAt: null, killAfterMs: 300 + Math.floor(next() * 900), wait: i % 4 === 0, definition })),
    ];
    try {
      const outcomes = await runAll(scenarios, 3, (s) => runScenario(s, store, dir, () => reader));
      console.log(report('crash safety in a parallel step (SQLite)', outcomes));
      for (const o of outcomes) expect(o.problems, `${o.scenario.runId}`).toEqual([]);
      expect(outcomes.filter((o) => o.status !== 'done')).toEqual([]);
      expect(outcomes.reduce((n, o) => n + o.completedReruns, 0)).toBe(0);
      for (const o of outcomes.filter((o) => o.scenario.crashAt)) expect(o.killed, `${o.scenario.crashAt} did not kill`).toBe(true);
      // The runs ended with every branch's output gathered.
      for (const o of outcomes) {
        const run = await reader.get(o.scenario.runId);
        expect(run?.output).toEqual({ order: o.scenario.runId, shipped: expect.anything(), charged: o.scenario.runId });
      }
    } finally {
      await reader.close();
    }
  });
});
