/**
 * A store that fails mid-run (its file cannot grow: the process's file size
 * limit, `ulimit -f`, which binds root too, as a full disk does): `run` prints
 * one `stepwise: …` line naming the store, not the driver's stack trace, and a
 * worker's log names the run whose commit failed, and says when its claim did.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { baseEnv, cli, collect, main, root, tempDir } from './helpers.js';

const definition = join(root, 'test', 'cli', 'fixtures', 'bulk.yaml');

/** The CLI with files of at most 300 KiB: the store's first commits fit, then its writes fail. */
const limitedCli = (args: readonly string[]) =>
  spawn('bash', ['-c', 'ulimit -f 300 && exec "$0" "$@"', process.execPath, main, ...args], { cwd: root, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });

describe('a store failing mid-run', { timeout: SPAWN_BUDGET_MS }, () => {
  it('run prints one line naming the store, no stack trace', async () => {
    const path = join(tempDir(), 's.db');
    const ran = await collect(limitedCli(['run', definition, '--id', 'full-1', '--store', `sqlite:${path}`, '--emulator']));
    expect(ran.code).toBe(1);
    const errors = ran.stderr.split('\n').filter((line) => line.startsWith('stepwise: ') && !line.includes('emulator'));
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^stepwise: The sqlite store sqlite:${path} failed: .*\\(SQLITE_[A-Z_]+\\)$`))]);
    expect(ran.stderr).not.toMatch(/\n\s+at /);
    // Committed steps are kept: the run is still running, resumable.
    const shown = await cli(['show', 'full-1', '--store', `sqlite:${path}`, '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'running' });
  });

  it('a worker logs the run whose commit failed by its id, and a failed claim as such', async () => {
    const store = `sqlite:${join(tempDir(), 's.db')}`;
    expect((await cli(['run', definition, '--id', 'full-2', '--store', store, '--detach'])).code).toBe(0);
    const worker = limitedCli(['worker', '--store', store, '--emulator', '--poll', '10ms', '--lease', '300ms']);
    let stderr = '';
    await new Promise<void>((resolve) => {
      worker.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('stepwise worker: claiming runs: ')) resolve();
      });
      worker.on('close', () => resolve());
    });
    const done = collect(worker);
    worker.kill('SIGKILL');
    await done;
    expect(stderr).toMatch(/stepwise worker: run full-2: The sqlite store sqlite:\S+ failed: /);
    expect(stderr).toMatch(/stepwise worker: claiming runs: The sqlite store sqlite:\S+ failed: /);
    expect(stderr).not.toContain('run -:');
  });
});
