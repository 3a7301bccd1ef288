/**
 * `stepwise cancel` and `stepwise inbox` on runs whose timers came due with no
 * worker running: the runs are made in this process on a manual clock set in
 * 2020, so on the CLI's clock (the system's) their windows closed long ago,
 * except one whose timeout is a century long. `cancel` fires what is due
 * first, as `send` does; `inbox` leaves out what closed, firing nothing.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import type { InboxEntry } from '../../src/query/inbox.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, lastJson, tempDir, type RunJson } from './helpers.js';

const approval = (id: string, wait: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  loadDefinitionFromObject(
    {
      id,
      ...extra,
      steps: { ask: { wait: { on: { APPROVE: 'yes' }, ...wait } }, yes: { final: true, output: 'approved' }, timed_out: { final: true, output: 'timed out' } },
    },
    [],
    id,
  );

/** Runs started on 2020-01-01, waiting at `ask`: by id. */
async function runsOf2020(path: string): Promise<Record<'closed' | 'open' | 'deadline', string>> {
  const store = createSqliteStore({ path });
  try {
    const engine = createEngine({ store, model: { baseURL: 'http://127.0.0.1:9', apiKey: 'unused' }, clock: new ManualClock({ start: Date.UTC(2020, 0, 1) }) });
    const start = async (definition: ReturnType<typeof approval>) => (await engine.start(definition)).runId;
    return {
      closed: await start(approval('one-hour', { timeout: '1h', onTimeout: 'timed_out' })),
      open: await start(approval('one-century', { timeout: '36500d', onTimeout: 'timed_out' })),
      deadline: await start(approval('deadline', {}, { deadline: '1h' })),
    };
  } finally {
    await store.close();
  }
}

describe('stepwise cancel and inbox after a window closed', { timeout: SPAWN_BUDGET_MS }, () => {
  it('inbox lists only the open wait; cancel finds the others ended by their timers and cancels the open one', async () => {
    const path = join(tempDir(), 's.db');
    const ids = await runsOf2020(path);
    const store = ['--store', `sqlite:${path}`];

    const listed = await cli(['inbox', ...store, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(lastJson<InboxEntry[]>(listed.stdout).map((e) => [e.runId, e.step])).toEqual([[ids.open, 'ask']]);
    expect((await cli(['inbox', ...store])).stdout).toMatch(/^1 step waiting$/m);

    const cancel = (id: string) => cli(['cancel', id, ...store, '--reason', 'withdrawn', '--json']);
    const [closed, deadline, open] = await Promise.all([cancel(ids.closed), cancel(ids.deadline), cancel(ids.open)]);
    expect(closed.code, closed.stderr).toBe(0);
    expect(lastJson<RunJson>(closed.stdout)).toMatchObject({ status: 'done', output: 'timed out', failure: null });
    expect(lastJson<RunJson>(deadline.stdout)).toMatchObject({ status: 'failed', failure: { kind: 'deadline' } });
    expect(lastJson<RunJson>(open.stdout)).toMatchObject({ status: 'cancelled', failure: { kind: 'cancelled', message: 'withdrawn' } });
  });
});
