/**
 * `stepwise run --id` with an id a run already has, in separate processes of the built CLI on one SQLite file: a run
 * of another workflow is refused (exit 1, nothing changed); a run of the same workflow is printed, with a note on
 * stderr that the input and definition given were not used. Concurrent processes too.
 */
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, example, lastJson, tempStore } from './helpers.js';

describe.concurrent('stepwise run --id <taken id>', { timeout: SPAWN_BUDGET_MS }, () => {
  it('of another workflow exits 1 with a stepwise: message and changes nothing; of the same workflow prints the run and says it existed', async () => {
    const store = tempStore();
    const first = await cli(['run', '--emulator', ...example('invoice-approval.yaml'), ...store, '--id', 'taken', '--json']);
    expect(first.code).toBe(0);
    expect(first.stderr).not.toContain('existed');
    const shown = await cli(['show', 'taken', ...store, '--json']);

    const other = await cli(['run', '--emulator', ...example('expense-review.yaml'), ...store, '--id', 'taken', '--json']);
    expect(other.code).toBe(1);
    expect(other.stdout).toBe('');
    expect(other.stderr).toMatch(/^stepwise: the run id "taken" is taken by a run of invoice-approval, not of expense-review: nothing was started or changed/m);
    expect(other.stderr).toContain('--id');
    expect((await cli(['show', 'taken', ...store, '--json'])).stdout).toBe(shown.stdout);

    const same = await cli(['run', '--emulator', 'definitions/invoice-approval.yaml', '--input', '{"document":"another"}', ...store, '--id', 'taken', '--json']);
    expect(same.code).toBe(0);
    expect(lastJson(same.stdout)).toEqual(lastJson(first.stdout));
    expect(same.stderr).toMatch(/^stepwise: the run "taken" existed already .*--input and the definition given now were not used/m);
    expect((await cli(['show', 'taken', ...store, '--json'])).stdout).toBe(shown.stdout);
  });

  it('two processes starting two workflows with one id: one exits 0 with its run, the other 1 saying the id is taken', async () => {
    const store = tempStore();
    const results = await Promise.all([
      cli(['run', '--emulator', ...example('invoice-approval.yaml'), ...store, '--id', 'both', '--json']),
      cli(['run', '--emulator', ...example('expense-review.yaml'), ...store, '--id', 'both', '--json']),
    ]);
    const stored = lastJson((await cli(['show', 'both', ...store, '--json'])).stdout).workflow;
    const winner = results.find((r) => r.code === 0)!;
    const loser = results.find((r) => r.code !== 0)!;
    expect(lastJson(winner.stdout).workflow).toBe(stored);
    expect(loser.code).toBe(1);
    expect(loser.stderr).toMatch(new RegExp(`^stepwise: the run id "both" is taken by a run of ${stored}, not of `, 'm'));
  });
});
