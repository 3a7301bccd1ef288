/**
 * Lifecycle through the CLI: a run finishes on the definition it started with
 * although the file changed meanwhile (`show` names the version), `run --id`
 * is idempotent, `cancel` journals the cancellation, `prune` removes finished
 * runs, and `list --json` / `show --json` keep their contract.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HEAVY_BUDGET_MS } from '../budgets.js';
import { cli, lastJson } from './cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-lifecycle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fixtures = path.join(import.meta.dirname, 'fixtures');

interface ShowJson {
  runId: string;
  version: string;
  status: string;
  output: unknown;
  journal: Array<{ step: string | null; visit: number; attempt: number; event: string; at: number }>;
}

describe('lifecycle through the CLI', () => {
  it('a run finishes on its own definition version after the file changes; cancel, prune, list and show', { timeout: HEAVY_BUDGET_MS }, async () => {
    const work = mkdtempSync(path.join(dir, 'defs-'));
    const file = path.join(work, 'crash.yaml');
    copyFileSync(path.join(fixtures, 'crash.yaml'), file);
    // The tool module is imported relative to the definition: point it back at the fixture. The wait's window is
    // widened from 300 ms, which the CLI commands below outlast, so the APPROVE arrives before it closes (after it
    // closed, `send` fires the timeout first and refuses the event).
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('tools: ./crash-tools.ts', `tools: ${path.join(fixtures, 'crash-tools.ts')}`).replace('timeout: 300ms', 'timeout: 1h'),
    );
    const store = `sqlite:${path.join(dir, 'life.db')}`;
    const input = JSON.stringify({ order: 'V-1', wait: true });

    const started = await cli(['run', file, '--id', 'v-1', '--store', store, '--emulator', '--input', input, '--json']);
    expect(started.code, started.stderr).toBe(0);
    const first = lastJson<{ status: string; version: string }>(started.stdout);
    expect(first.status).toBe('waiting');
    const again = await cli(['run', file, '--id', 'v-1', '--store', store, '--emulator', '--input', input, '--json']);
    expect(lastJson(again.stdout)).toMatchObject({ runId: 'v-1', status: 'waiting', version: first.version });

    // The file changes: the final output and the wait's events.
    writeFileSync(file, readFileSync(file, 'utf8').replace('output: { order: "{% $input.order %}"', 'output: { edited: true, order: "{% $input.order %}"').replace('APPROVE: done', 'OK: done'));
    const edited = await cli(['validate', file]);
    expect(edited.stdout).not.toContain(first.version);
    const sent = await cli(['send', 'v-1', 'APPROVE', '--store', store, '--emulator', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(lastJson(sent.stdout)).toMatchObject({ status: 'done', version: first.version, output: { order: 'V-1', shipped: 'V-1' } });

    const shown = await cli(['show', 'v-1', '--store', store, '--json']);
    const show = lastJson<ShowJson>(shown.stdout);
    expect(show).toMatchObject({ runId: 'v-1', version: first.version, status: 'done' });
    expect(show.journal.map((e) => e.event)).toEqual(expect.arrayContaining(['created', 'started', 'completed', 'failed', 'retry_scheduled', 'waiting', 'event', 'finished']));
    for (const e of show.journal) expect(Object.keys(e)).toEqual(expect.arrayContaining(['step', 'visit', 'attempt', 'event', 'at']));
    const text = await cli(['show', 'v-1', '--store', store]);
    expect(text.stdout).toContain(`version ${first.version}`);

    // Cancel a waiting run.
    await cli(['run', file, '--id', 'v-2', '--store', store, '--emulator', '--input', JSON.stringify({ order: 'V-2', wait: true }), '--json']);
    const cancelled = await cli(['cancel', 'v-2', '--store', store, '--reason', 'customer withdrew', '--json']);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(lastJson(cancelled.stdout)).toMatchObject({ runId: 'v-2', status: 'cancelled' });
    const cancelledJournal = lastJson<ShowJson>((await cli(['show', 'v-2', '--store', store, '--json'])).stdout).journal;
    expect(cancelledJournal.some((e) => e.event === 'cancelled')).toBe(true);

    const detached = await cli(['run', file, '--id', 'v-3', '--detach', '--store', store, '--input', JSON.stringify({ order: 'V-3' }), '--json']);
    expect(lastJson(detached.stdout)).toMatchObject({ runId: 'v-3', status: 'running' });

    const listed = lastJson<Array<{ runId: string; workflow: string; status: string }>>((await cli(['list', '--store', store, '--json'])).stdout);
    expect(listed.map((r) => [r.runId, r.workflow, r.status]).sort()).toEqual([
      ['v-1', 'crash-test', 'done'],
      ['v-2', 'crash-test', 'cancelled'],
      ['v-3', 'crash-test', 'running'],
    ]);

    // Prune: nothing is a day old; everything finished is older than 0 s; running runs stay.
    expect(lastJson((await cli(['prune', '--older-than', '1d', '--store', store, '--json'])).stdout)).toEqual({ pruned: 0 });
    expect(lastJson((await cli(['prune', '--older-than', '0s', '--status', 'cancelled', '--store', store, '--json'])).stdout)).toEqual({ pruned: 1 });
    expect(lastJson((await cli(['prune', '--older-than', '0s', '--store', store, '--json'])).stdout)).toEqual({ pruned: 1 });
    const left = lastJson<Array<{ runId: string }>>((await cli(['list', '--store', store, '--json'])).stdout);
    expect(left.map((r) => r.runId)).toEqual(['v-3']);
  });
});
