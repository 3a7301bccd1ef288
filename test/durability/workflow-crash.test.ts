/**
 * Kill -9 around a sub-workflow: a real `stepwise run` process running a
 * parent whose `workflow` step starts a child run (test/durability/fixtures/
 * crash.yaml: a model step, a tool that fails once, a slow tool) is killed at
 * every moment of the child's life — right after the parent step's start is
 * committed (the child not created yet), right after the child is created,
 * during the child (its model call, a tool call, a tool's return, an attempt's
 * start, a commit), and after the child finished before the parent settled —
 * then recovered with `stepwise resume`. The parent finishes with the child's
 * output, exactly one child run exists and was created once, no completed step
 * of the child ran again, and both journals are whole. SQLite file and
 * PostgreSQL (the same points and checks on each).
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

const definition = path.join(import.meta.dirname, 'fixtures/workflow-crash.yaml');
const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-workflow-crash-'));
const schemas = testSchemas('wfcrash');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Kills a run at `crashAt`, recovers it, and lists what a crash must not break (empty: nothing broke). */
async function killAndRecover(runId: string, crashAt: string, store: string, reader: Store): Promise<string[]> {
  const effects = path.join(dir, `${runId}.effects`);
  const args = ['run', definition, '--id', runId, '--store', store, '--emulator', '--input', JSON.stringify({ order: runId }), '--json'];
  const problems: string[] = [];
  const status = await killThenRecover({
    runId,
    args,
    store,
    crashAt,
    env: { STEPWISE_TEST_EFFECTS: effects },
    exists: async () => Boolean(await reader.get(runId)),
    problems,
    afterKill: () => killedAt(crashAt, runId, reader),
  });
  const run = await reader.get(runId);
  const children = await reader.list({ parentId: runId });
  // Exactly one child run: a resume adopts the child it finds, or creates the missing one; never a second.
  if (children.length !== 1) return [...problems, `${children.length} child runs`];
  const child = children[0]!;
  if (child.id !== `${runId}~sub.1`) problems.push(`child ${child.id}`);
  if (child.status !== 'done') problems.push(`child ended ${child.status}`);
  if (status !== 'done' || run?.status !== 'done') problems.push(`run ended ${status}`);
  else if (JSON.stringify(run.output) !== JSON.stringify({ order: runId, child: child.output }) || JSON.stringify(child.output) !== JSON.stringify({ order: runId, shipped: runId })) {
    problems.push(`output ${JSON.stringify(run.output)} (child's ${JSON.stringify(child.output)})`);
  }
  const parentJournal = await reader.journal(runId);
  problems.push(...journalProblems(parentJournal));
  if (parentJournal.filter((e) => e.step === 'sub' && e.event === 'completed').length !== 1) problems.push('the parent step did not complete exactly once');
  const journal = await reader.journal(child.id);
  problems.push(...journalProblems(journal).map((p) => `child: ${p}`));
  if (journal.filter((e) => e.event === 'created').length !== 1) problems.push('the child was not created exactly once');
  for (const step of ['note', 'charge', 'ship']) {
    if (journal.filter((e) => e.step === step && e.event === 'completed').length !== 1) problems.push(`child step ${step} did not complete exactly once`);
  }
  const text = existsSync(effects) ? readFileSync(effects, 'utf8') : '';
  const own = text.split('\n').filter((line) => line.startsWith(`${child.id}:`)).join('\n');
  const { completedReruns, effectProblems } = checkEffects(child.id, journal, own);
  if (completedReruns > 0) problems.push(`${completedReruns} completed child step(s) ran again`);
  problems.push(...effectProblems.map((p) => `child: ${p}`));
  return problems;
}

/** What the store holds right after the kill at the points that name a moment of the child's life: proof the kill landed there. */
async function killedAt(crashAt: string, runId: string, reader: Store): Promise<string[]> {
  const children = await reader.list({ parentId: runId });
  const started = (await reader.journal(runId)).some((e) => e.step === 'sub' && e.event === 'started');
  const completed = (await reader.journal(runId)).some((e) => e.step === 'sub' && e.event === 'completed');
  const state = `parent step started ${started}, completed ${completed}; children ${children.map((c) => `${c.status}@${c.revision}`).join(', ') || 'none'}`;
  const expected: Record<string, boolean> = {
    // The parent step's start is committed, its child not created yet.
    'step-started:1': started && children.length === 0,
    // The child exists as created, not driven yet.
    'child-created:1': started && children.length === 1 && children[0]!.revision === 0,
    // The child finished; the parent has not committed the step's completion.
    'after-child:1': children.length === 1 && children[0]!.status === 'done' && !completed,
  };
  return expected[crashAt] === false ? [`killed at ${crashAt}, but the store holds: ${state}`] : [];
}

/**
 * The points, in the order a run reaches them: the parent step's start committed (its first `step-started`), the
 * child created, the child's model call, its first tool call, a tool's return, the start of its last step, a commit
 * inside it, and the child's drive returned (it finished) before the parent committed the step's completion.
 */
const points = ['step-started:1', 'child-created:1', 'mid-model:1@20', 'mid-tool:1@20', 'after-tool:2', 'step-started:4', 'mid-commit:5', 'after-child:1'];

/** Kills and recovers a run at every point, two at a time (the machine is shared); the problems found at each point. */
async function everyPoint(prefix: string, store: string, reader: Store): Promise<Record<string, string[]>> {
  const problems: string[][] = [];
  for (let i = 0; i < points.length; i += 2) {
    problems.push(...(await Promise.all(points.slice(i, i + 2).map((point, j) => killAndRecover(`${prefix}-${i + j}`, point, store, reader)))));
  }
  return Object.fromEntries(points.map((point, i) => [point, problems[i] ?? [`no result`]]));
}

const clean = Object.fromEntries(points.map((point) => [point, []]));

describe('kill -9 around a sub-workflow', () => {
  it('SQLite: every killed run resumes to done with the child run once and its output', { timeout: HEAVY_BUDGET_MS }, async () => {
    const file = path.join(dir, 'workflow.db');
    const reader = createSqliteStore({ path: file });
    try {
      // Independent runs on the one file.
      expect(await everyPoint('wf-sq', `sqlite:${file}`, reader)).toEqual(clean);
    } finally {
      await reader.close();
    }
  });

  it('PostgreSQL: the same on the real server', { timeout: HEAVY_BUDGET_MS }, async () => {
    const schema = schemas.name();
    const reader = createPostgresStore({ url: PG_URL, schema, pool: 2 });
    await reader.migrate();
    try {
      // Independent runs in the one schema.
      expect(await everyPoint('wf-pg', `postgres:${PG_URL}?schema=${schema}`, reader)).toEqual(clean);
    } finally {
      await reader.close();
      await schemas.drop(schema);
    }
  });
});
