/** The built-in emulator starts (and says so) only when a model call needs it. */
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, example, lastJson, tempStore, type RunJson } from './helpers.js';

const BANNER = 'using the built-in emulator';

describe('the emulator is started on first model call', { timeout: SPAWN_BUDGET_MS }, () => {
  it('is quiet on resume, send, rerun, run --detach and a rejected input, where no model call is made', async () => {
    const store = [...tempStore(), '--emulator'];
    const started = await cli(['run', ...example('invoice-approval.yaml'), ...store, '--json']);
    expect(started.code, started.stderr).toBe(0);
    // extract asks the model: the emulator starts and says so, once.
    expect(started.stderr.split('\n').filter((l) => l.includes(BANNER))).toHaveLength(1);
    const run = lastJson<RunJson>(started.stdout);
    expect(run.status).toBe('waiting');

    const resumed = await cli(['resume', run.runId, ...store]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).not.toContain(BANNER);

    // APPROVE leads to pay, a tool step.
    const sent = await cli(['send', run.runId, 'APPROVE', ...store, '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(lastJson<RunJson>(sent.stdout).status).toBe('done');
    expect(sent.stderr).not.toContain(BANNER);

    const rerun = await cli(['rerun', run.runId, '--from', 'pay', ...store, '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(lastJson<RunJson>(rerun.stdout).status).toBe('done');
    expect(rerun.stderr).not.toContain(BANNER);

    const detached = await cli(['run', ...example('invoice-approval.yaml'), ...store, '--detach', '--json']);
    expect(detached.code, detached.stderr).toBe(0);
    expect(detached.stderr).not.toContain(BANNER);

    const rejected = await cli(['run', 'definitions/invoice-approval.yaml', '--input', '{}', ...store]);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).not.toContain(BANNER);
  });
});
