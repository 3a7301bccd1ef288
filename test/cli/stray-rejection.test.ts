/**
 * Tool code that leaves a promise rejected with nothing to handle it (a fire-and-forget call) does not take the CLI
 * process down with every run it drives: the process says so on stderr (its message with credentials hidden, no
 * stack of the tools module) and the runs go on. Through the built CLI, `run` and `worker`, on a SQLite file.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, lastJson, root, tempDir } from './helpers.js';

const definition = join(root, 'test', 'cli', 'fixtures', 'stray-rejection.yaml');

describe('a stray promise rejection in tool code', { timeout: SPAWN_BUDGET_MS }, () => {
  it('is reported on stderr and the run finishes, under run and under a worker', async () => {
    const store = `sqlite:${join(tempDir(), 'runs.db')}`;
    const ran = await cli(['run', definition, '--input', '{"order":"o-1"}', '--store', store, '--emulator', '--json']);
    expect(ran.stderr).toMatch(/a promise was rejected and nothing handled it.*audit log down for o-1 token=\*\*\*/);
    expect(ran.stderr).not.toContain('ghp_');
    expect(ran.stderr).not.toContain('data:text/javascript');
    expect(lastJson(ran.stdout)).toMatchObject({ status: 'done', output: { audited: 'o-1-2' } });
    expect(ran.code).toBe(0);

    const queued = lastJson(
      (await cli(['run', definition, '--input', '{"order":"o-2"}', '--store', store, '--emulator', '--detach', '--json'])).stdout,
    );
    const worked = await cli(['worker', '--store', store, '--emulator', '--exit-when-idle']);
    expect(worked.code).toBe(0);
    expect(worked.stderr).toMatch(/audit log down for o-2/);
    const shown = lastJson((await cli(['show', queued.runId, '--store', store, '--json'])).stdout);
    expect(shown).toMatchObject({ status: 'done', output: { audited: 'o-2-2' } });
  });
});
