/**
 * Poison runs and runs that never end, through the built CLI: a tool that
 * returns a BigInt fails the run as `invalid_output` (no stack trace, exit 1,
 * resumable) and a worker does not run it again; `stepwise cancel` stops a run
 * another `stepwise run` process is driving while its tool hangs, or while its first step waits on the model
 * server's count_tokens (before the step starts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, cli, collect, lastJson, root, spawnCli, tempDir } from './helpers.js';

const fixture = (name: string) => join(root, 'test', 'cli', 'fixtures', name);
const effectsOf = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

describe('poison runs and cancel through the CLI', () => {
  it('a tool returning a BigInt fails the run as invalid_output: no stack trace, exit 1, resumable, never re-run by a worker', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const store = ['--store', `sqlite:${join(dir, 's.db')}`];
    const effects = join(dir, 'effects');
    const env = baseEnv({ STEPWISE_TEST_EFFECTS: effects });

    const run = await cli(['run', fixture('poison.yaml'), '--id', 'p-1', '--input', '{"order":"A-1"}', '--json', '--emulator', ...store], env);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stderr).not.toMatch(/TypeError|BigInt value can't be serialized|Do not know how to serialize/);
    const view = lastJson(run.stdout);
    expect(view).toMatchObject({ runId: 'p-1', status: 'failed', resumable: true, failure: { kind: 'invalid_output', step: 'pay' } });
    expect(view.failure?.message).toMatch(/the output of step "pay" cannot be stored: \$\.amount is a BigInt/);

    const worker = await cli(['worker', '--exit-when-idle', '--poll', '50ms', '--emulator', ...store], env);
    expect(worker.code, worker.stderr).toBe(0);
    const shown = await cli(['show', 'p-1', '--json', ...store], env);
    const show = lastJson<{ status: string; journal: Array<{ event: string; error?: { kind: string } }> }>(shown.stdout);
    expect(show.status).toBe('failed');
    expect(show.journal.filter((e) => e.event === 'failed').map((e) => e.error?.kind)).toEqual(['invalid_output']);
    expect(effectsOf(effects)).toEqual(['p-1:pay:1:1']);
  });

  it('`stepwise cancel` stops a run another process is driving while its tool hangs', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const store = ['--store', `sqlite:${join(dir, 's.db')}`];
    const effects = join(dir, 'effects');
    const env = baseEnv({ STEPWISE_TEST_EFFECTS: effects });

    const child = spawnCli(['run', fixture('hang.yaml'), '--id', 'h-1', '--input', '{"order":"B-1"}', '--json', '--emulator', ...store], env);
    const driving = collect(child);
    try {
      await cancelWhileDriven();
    } finally {
      // Whatever happened, the tool never ends by itself: leave no process behind.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }

    async function cancelWhileDriven() {
      // The tool has been called: the step is running, and the driving process holds the run's lease.
      for (let i = 0; i < 600 && effectsOf(effects).length === 0; i++) await new Promise((done) => setTimeout(done, 100));
      expect(effectsOf(effects)).toEqual(['h-1:wait_for_gateway:1:1']);

      const cancel = await cli(['cancel', 'h-1', '--reason', 'gateway is down', '--json', ...store], env);
      expect(cancel.code, cancel.stderr).toBe(0);
      expect(lastJson(cancel.stdout)).toMatchObject({ runId: 'h-1', status: 'cancelled', failure: { kind: 'cancelled', message: 'gateway is down' } });

      const driven = await driving;
      expect(driven.code, driven.stderr).toBe(1);
      expect(lastJson(driven.stdout)).toMatchObject({ runId: 'h-1', status: 'cancelled' });
      const shown = lastJson<{ journal: Array<{ event: string }> }>((await cli(['show', 'h-1', '--json', ...store], env)).stdout);
      expect(shown.journal.map((e) => e.event)).toEqual(['created', 'started', 'failed', 'cancelled']);
    }
  });

  it('`stepwise cancel` stops a run whose first step waits on count_tokens in another `stepwise run` process', { timeout: 120_000 }, async () => {
    // A model server that answers count_tokens with its headers and never its body.
    const seen: string[] = [];
    let arrived!: (request: { closed: Promise<void> }) => void;
    const counting = new Promise<{ closed: Promise<void> }>((resolve) => (arrived = resolve));
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push((req.url ?? '').split('?')[0]!);
        const closed = new Promise<void>((resolve) => res.on('close', () => resolve()));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"input_tokens":');
        arrived({ closed });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const store = ['--store', `sqlite:${join(tempDir(), 's.db')}`];
    const env = baseEnv({ ANTHROPIC_BASE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ANTHROPIC_API_KEY: 'x' });
    const child = spawnCli(['run', fixture('counted-first.yaml'), '--id', 'c-1', '--json', ...store], env);
    const driving = collect(child);
    try {
      const { closed } = await counting;
      const cancel = await cli(['cancel', 'c-1', '--reason', 'too costly', '--json', ...store], env);
      expect(cancel.code, cancel.stderr).toBe(0);
      expect(lastJson(cancel.stdout)).toMatchObject({ runId: 'c-1', status: 'cancelled', failure: { kind: 'cancelled', message: 'too costly' }, usage: { totalTokens: 0 } });
      const driven = await driving;
      expect(driven.code, driven.stderr).toBe(1);
      expect(lastJson(driven.stdout)).toMatchObject({ runId: 'c-1', status: 'cancelled' });
      await closed; // the count request was aborted
      expect(seen).toEqual(['/v1/messages/count_tokens']);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
