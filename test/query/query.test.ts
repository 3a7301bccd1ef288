/**
 * The query layer (src/query) is what the CLI prints: `show --json`,
 * `list --json` and `stats --json` of real CLI runs on a SQLite file equal
 * what the query functions return over the same store, and `engine.list`
 * and `engine.journal` are the same queries.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { RunNotFoundError, StepwiseError } from '../../src/errors.js';
import { cacheByStep, findRun, getRun, listRuns, runJournal, runStats, runSummaries, runTimeline, showRun } from '../../src/query/index.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { makeRun } from '../../src/testing/store-fixtures.js';
import type { Store } from '../../src/store/types.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, invoice, lastJson, tempStore } from '../observe/cli.js';

const spec = tempStore();
const path = spec.slice('sqlite:'.length);
const ids: Record<string, string> = {};
let store: Store;

/** What a value looks like once printed as JSON and read back. */
const printed = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

beforeAll(async () => {
  const runs = {
    waiting: ['run', ...invoice],
    done: ['run', 'definitions/support-triage.yaml', '--input', '@definitions/support-triage.input.json'],
    failed: ['run', ...invoice, '--faults', 'invalid_input=1', '--max-retries', '0'],
  };
  // Three independent runs, side by side on the one file.
  await Promise.all(
    Object.entries(runs).map(async ([name, args]) => {
      const result = await cli([...args, '--emulator', '--store', spec, '--json']);
      ids[name] = lastJson<{ runId: string }>(result.stdout).runId;
    }),
  );
  store = createSqliteStore({ path });
}, SPAWN_BUDGET_MS);

afterAll(async () => {
  await store?.close();
  rmSync(dirname(path), { recursive: true, force: true });
});

// The tests only read the store the runs above wrote: they run side by side.
describe.concurrent('the query layer is what the CLI prints', { timeout: SPAWN_BUDGET_MS }, () => {
  it('show --json is showRun: the run object, its definition, timeline, journal and prompt-cache figures', async () => {
    const shownAll = await Promise.all(Object.values(ids).map((id) => cli(['show', id, '--store', spec, '--json'])));
    for (const [i, id] of Object.values(ids).entries()) {
      const shown = lastJson(shownAll[i]!.stdout);
      const detail = await showRun(store, id);
      expect(shown).toEqual(printed(detail));
      expect(detail.timeline).toEqual(await runTimeline(store, id));
      expect(detail.journal).toEqual((await runJournal(store, id)).map((e) => ({ ...e, atIso: new Date(e.at).toISOString() })));
      const { definition, timeline, journal, cache, children, parent, waitingOn, ...run } = detail;
      expect(run).toEqual(await getRun(store, id));
      expect(cache).toEqual(cacheByStep(await runJournal(store, id)));
      expect(children).toEqual([]);
      expect(parent).toBeNull();
      expect(waitingOn).toEqual([]); // it waits at its own step, on no child
      expect(definition.version).toBe((await findRun(store, id)).version);
      expect(timeline.rows.length).toBeGreaterThan(0);
      expect(journal[0]?.event).toBe('created');
    }
    const failed = await showRun(store, ids['failed']!);
    expect(failed.status).toBe('failed');
    expect(failed.timeline.rows.filter((r) => r.failurePoint)).toHaveLength(1);
  });

  it('list --json is listRuns, with the same filters', async () => {
    const all = JSON.parse((await cli(['list', '--store', spec, '--json'])).stdout) as unknown;
    expect(all).toEqual(printed(await listRuns(store, { limit: 100 })));
    expect((all as unknown[]).length).toBe(3);
    const waiting = JSON.parse((await cli(['list', '--store', spec, '--status', 'waiting', 'failed', '--workflow', 'invoice-approval', '--json'])).stdout) as unknown;
    const rows = await listRuns(store, { status: ['waiting', 'failed'], workflow: 'invoice-approval', limit: 100 });
    expect(waiting).toEqual(printed(rows));
    expect(rows.map((r) => r.runId).sort()).toEqual([ids['waiting'], ids['failed']].sort());
  });

  it('stats --json is runStats', async () => {
    const stats = lastJson((await cli(['stats', '--store', spec, '--json'])).stdout);
    const queried = await runStats(store, { limit: 10_000 });
    expect(stats).toEqual(printed(queried));
    expect(queried.runs).toBe(3);
    expect(queried.failuresByKind).toEqual({ retries_exhausted: 1 });
  });

  it('engine.list and engine.journal are the same queries', async () => {
    const engine = createEngine({ store, model: { apiKey: 'unused' } });
    expect(await engine.list({ workflow: 'invoice-approval' })).toEqual(await runSummaries(store, { workflow: 'invoice-approval' }));
    expect((await engine.list()).map((r) => r.runId).sort()).toEqual(Object.values(ids).sort());
    expect(await engine.journal(ids['done']!)).toEqual(await runJournal(store, ids['done']!));
  });

  it('a missing run is RunNotFoundError, an unknown status a usage error naming the valid ones', async () => {
    for (const query of [findRun, getRun, showRun, runJournal, runTimeline]) {
      await expect(query(store, 'no-such-run')).rejects.toBeInstanceOf(RunNotFoundError);
    }
    const error = await listRuns(store, { status: ['done', 'bogus' as 'done'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepwiseError);
    expect(error).toMatchObject({ code: 'usage' });
    expect((error as Error).message).toBe('Unknown status bogus: use running, waiting, done, failed, budget_exhausted, cancelled.');
    const printedError = await cli(['list', '--store', spec, '--status', 'bogus']);
    expect(printedError.stderr).toBe(`stepwise: ${(error as Error).message}\n`);
    expect(printedError.code).toBe(1);
    expect(printedError.stderr).toContain((error as Error).message);
  });

  it('accepts an unambiguous prefix of a run id (4 characters at least) and lists the candidates of an ambiguous one', async () => {
    const prefixes = createMemoryStore();
    for (const [i, id] of ['3f2a9c01', '3f2a9c02', '3f2b0000', 'abc'].entries()) await prefixes.create(makeRun({ id, workflow: `wf-${i}`, createdAt: i }), []);
    expect((await findRun(prefixes, '3f2b')).id).toBe('3f2b0000');
    expect(await runJournal(prefixes, '3f2b')).toEqual(await prefixes.journal('3f2b0000'));
    expect((await findRun(prefixes, '3f2a9c02')).id).toBe('3f2a9c02');
    // An exact id wins even when it is short; a shorter prefix than 4 characters is not one.
    expect((await findRun(prefixes, 'abc')).id).toBe('abc');
    await expect(findRun(prefixes, '3f2')).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(findRun(prefixes, '3f2c')).rejects.toBeInstanceOf(RunNotFoundError);
    const ambiguous = await findRun(prefixes, '3f2a').catch((e: unknown) => e);
    expect(ambiguous).toMatchObject({ code: 'usage' });
    expect((ambiguous as Error).message).toBe(
      ['The run id prefix "3f2a" is ambiguous: 2 runs match; give more of the id:', '  3f2a9c02 (wf-1, running)', '  3f2a9c01 (wf-0, running)'].join('\n'),
    );
  });
});
