/** `stepwise serve` as a process: the service contract `serve --port <p> --store <store> --token <t>`, end to end. */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONDITION_BUDGET_MS, SPAWN_BUDGET_MS, waitFor } from '../budgets.js';
import { cli, root, spawnCli, tempDir } from '../cli/helpers.js';

const TOKEN = 'cli-token-5a4b3c2d1e';
const input = JSON.parse(readFileSync(join(root, 'definitions', 'invoice-approval.input.json'), 'utf8')) as unknown;

describe('stepwise serve', () => {
  it(
    'serves the API on the port it prints, with auth; SIGTERM stops it cleanly; the token is never printed',
    async () => {
      const store = `sqlite:${join(tempDir(), 's.db')}`;
      const child = spawnCli(['serve', '--port', '0', '--store', store, '--token', TOKEN]);
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      try {
        await waitFor(() => /listening on (http:\/\/\S+)/.test(stdout) || child.exitCode !== null, 'the server to listen', CONDITION_BUDGET_MS);
        const url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
        expect(url, stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

        expect((await fetch(`${url}/health`)).status).toBe(200);
        expect((await fetch(`${url}/api/runs`)).status).toBe(401);

        const started = await fetch(`${url}/api/runs`, { method: 'POST', headers: auth, body: JSON.stringify({ workflow: 'invoice-approval', input, id: 'cli-run-1' }) });
        expect(started.status).toBe(201);
        expect(await started.json()).toMatchObject({ runId: 'cli-run-1', status: 'waiting' });

        const approved = await fetch(`${url}/api/runs/cli-run-1/events`, { method: 'POST', headers: auth, body: JSON.stringify({ type: 'APPROVE' }) });
        expect(await approved.json()).toMatchObject({ status: 'done' });

        const list = (await (await fetch(`${url}/api/runs?status=done`, { headers: auth })).json()) as { runs: Array<{ runId: string }> };
        expect(list.runs.map((r) => r.runId)).toEqual(['cli-run-1']);
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
      expect(stdout + stderr).not.toContain(TOKEN);

      // The run is in the store the CLI reads.
      const shown = await cli(['show', 'cli-run-1', '--store', store, '--json']);
      const detail = JSON.parse(shown.stdout) as { status: string; journal: Array<{ event: string; data?: { by?: string } }> };
      expect(detail.status).toBe('done');
      expect(detail.journal.find((e) => e.event === 'event')?.data?.by).toBe('api');
    },
    SPAWN_BUDGET_MS,
  );

  it(
    'refuses to listen beyond loopback without a token',
    async () => {
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
      delete env['STEPWISE_TOKEN'];
      const result = await cli(['serve', '--host', '0.0.0.0', '--port', '0', '--store', 'memory'], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('refusing to listen on 0.0.0.0 without a token');
    },
    SPAWN_BUDGET_MS,
  );
});
