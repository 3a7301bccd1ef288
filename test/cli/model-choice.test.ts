/**
 * When the CLI may fall back to the built-in emulator: only on the embedded
 * defaults (`run` on the default SQLite file, the demo), and it says so on
 * stderr. `worker`, and a run on any other store, need a configured model
 * (`ANTHROPIC_API_KEY` / `ANTHROPIC_BASE_URL`) or an explicit `--emulator`: a
 * misconfigured production worker must not run real tools on made-up inputs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { EMULATOR_NOTE, baseEnv, cli, collect, example, lastJson, main, root } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempStoreSpec = () => {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-model-choice-'));
  dirs.push(dir);
  return `sqlite:${join(dir, 'runs.db')}`;
};
const lead = (store: string, ...more: string[]) => ['run', ...example('lead-enrichment.ts'), '--store', store, ...more];
const show = async (store: string, id: string) => lastJson((await cli(['show', id, '--store', store, '--json'])).stdout);

describe.concurrent('choosing the model server', { timeout: 180_000 }, () => {
  it('worker refuses to start without a configured model or --emulator, and drives nothing', async () => {
    const store = tempStoreSpec();
    const enqueued = await cli(lead(store, '--id', 'w-1', '--detach', '--json'));
    expect(enqueued.code, enqueued.stderr).toBe(0);
    expect(enqueued.stderr).not.toContain('emulator');
    const worker = await cli(['worker', '--store', store, '--exit-when-idle', '--poll', '20ms']);
    expect(worker.code).toBe(1);
    expect(worker.stderr).toContain('stepwise worker needs a configured model');
    expect(worker.stderr).toContain('ANTHROPIC_API_KEY');
    expect(worker.stderr).toContain('--emulator');
    expect(worker.stderr).not.toContain('using the built-in emulator');
    const untouched = await show(store, 'w-1');
    expect(untouched.status).toBe('running');
    expect((untouched as unknown as { journal: Array<{ event: string }> }).journal.map((e) => e.event)).toEqual(['created']);

    const asked = await cli(['worker', '--store', store, '--exit-when-idle', '--poll', '20ms', '--emulator']);
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stderr).toContain('--emulator; using the built-in emulator');
    expect((await show(store, 'w-1')).status).toBe('done');
  });

  it('the hints a run on another store prints with --emulator work as printed, with no configured model', async () => {
    const store = tempStoreSpec();
    const started = await cli(['run', 'test/cli/fixtures/approval.yaml', '--store', store, '--emulator']);
    expect(started.code, started.stderr).toBe(0);
    const hint = started.stdout.split('\n').find((line) => line.includes('stepwise send '));
    expect(hint, started.stdout).toBeDefined();
    const command = hint!.slice(hint!.indexOf('stepwise send ') + 'stepwise '.length).replace('<EVENT>', 'APPROVE').split(' ');
    const sent = await cli(command);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain('done');
  });

  it('worker uses a configured model server without --emulator', async () => {
    const emu = await startEmulator({ seed: 1 });
    try {
      const store = tempStoreSpec();
      expect((await cli(lead(store, '--id', 'w-2', '--detach', '--json'))).code).toBe(0);
      const worker = await cli(['worker', '--store', store, '--exit-when-idle', '--poll', '20ms'], baseEnv({ ANTHROPIC_BASE_URL: emu.url, ANTHROPIC_API_KEY: 'k' }));
      expect(worker.code, worker.stderr).toBe(0);
      expect(worker.stderr).not.toContain('built-in emulator');
      expect((await show(store, 'w-2')).status).toBe('done');
      expect(emu.stats().messages).toBeGreaterThan(0);
    } finally {
      await emu.close();
    }
  });

  it('a run on a store other than the default SQLite file needs a configured model or --emulator', async () => {
    for (const store of [tempStoreSpec(), 'memory']) {
      const refused = await cli(lead(store, '--json'));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`A run on a store other than the default SQLite file (${store}) needs a configured model`);
      expect(refused.stdout).toBe('');
      const asked = await cli(lead(store, '--emulator', '--json'));
      expect(asked.code, asked.stderr).toBe(0);
      expect(lastJson(asked.stdout).status).toBe('done');
      expect(asked.stderr).toContain('using the built-in emulator');
    }
    const store = tempStoreSpec();
    const list = JSON.parse((await cli(['list', '--store', store, '--json'])).stdout) as unknown[];
    expect(list).toEqual([]);
    expect((await cli(['resume', 'nope', '--store', store])).stderr).toContain('No run with id');
  });

  it('run on the default SQLite file uses the emulator without being asked, and says so on stderr', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'stepwise-default-store-'));
    dirs.push(cwd);
    const [file, , input] = example('lead-enrichment.ts');
    const result = await collect(spawnCliIn(cwd, ['run', join(root, file!), '--input', `@${join(root, input!.slice(1))}`, '--json']));
    expect(result.code, result.stderr).toBe(0);
    expect(lastJson(result.stdout).status).toBe('done');
    expect(result.stderr.split('\n').filter((l) => l.includes(EMULATOR_NOTE))).toHaveLength(1);
    // The same with --store naming the default file explicitly.
    const named = await collect(spawnCliIn(cwd, ['run', join(root, file!), '--input', `@${join(root, input!.slice(1))}`, '--store', 'sqlite:.stepwise/stepwise.db', '--json']));
    expect(named.code, named.stderr).toBe(0);
    expect(named.stderr).toContain(EMULATOR_NOTE);
  });
});

/** The CLI in another working directory, where its default store is `<cwd>/.stepwise/stepwise.db`. */
function spawnCliIn(cwd: string, args: readonly string[]) {
  return spawn(process.execPath, [main, ...args], { cwd, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
}
