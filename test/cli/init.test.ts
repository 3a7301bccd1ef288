/**
 * `stepwise init` and `stepwise --version`, as a new user meets them: in an
 * empty directory, init a scaffold, then validate, run and approve it on the
 * embedded defaults with no flags, and run the scaffold's own test.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { baseEnv, collect, lastJson, main, root, type CliResult } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-init-'));
  dirs.push(dir);
  return dir;
}

/** The CLI as a user in `cwd` runs it. */
const stepwise = (cwd: string, args: readonly string[]): Promise<CliResult> =>
  collect(spawn(process.execPath, [main, ...args], { cwd, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));

describe('stepwise init', { timeout: SPAWN_BUDGET_MS }, () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const result = await stepwise(root, ['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('writes a workflow that validates, runs, waits and finishes on approval, with a test that passes', async () => {
    const cwd = emptyDir();
    const init = await stepwise(cwd, ['init', 'my-flow']);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('npx stepwise run my-flow/workflow.yaml --input @my-flow/workflow.input.json');
    const dir = join(cwd, 'my-flow');
    for (const name of ['workflow.yaml', 'workflow.input.json', 'tools.mts', 'workflow.test.mts']) expect(existsSync(join(dir, name))).toBe(true);

    // The $schema line editors read points at the package's JSON Schema.
    const schemaLine = readFileSync(join(dir, 'workflow.yaml'), 'utf8').split('\n')[0] ?? '';
    const schemaPath = /^# yaml-language-server: \$schema=(.+)$/.exec(schemaLine)?.[1];
    expect(schemaPath).toBeDefined();
    expect(resolve(dir, schemaPath!)).toBe(join(root, 'schema', 'workflow.schema.json'));

    const validate = await stepwise(cwd, ['validate', 'my-flow/workflow.yaml']);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toMatch(/^ok my-flow\/workflow\.yaml: my-flow /);
    expect(validate.stderr).toBe('');

    const run = await stepwise(cwd, ['run', 'my-flow/workflow.yaml', '--input', '@my-flow/workflow.input.json', '--json']);
    expect(run.code).toBe(0);
    const waiting = lastJson(run.stdout);
    expect(waiting).toMatchObject({ workflow: 'my-flow', status: 'waiting', waitingFor: { step: 'review', events: ['APPROVE', 'REJECT'] } });

    const send = await stepwise(cwd, ['send', waiting.runId, 'APPROVE', '--data', '{"by":"you"}', '--json']);
    expect(send.code).toBe(0);
    expect(lastJson(send.stdout)).toMatchObject({ status: 'done', output: { sent: true, to: 'ada@example.com', messageId: `${waiting.runId}:send:1:1` } });

    // The scaffold's own test, with the package "installed" (linked) where it looks for it.
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'stepwise-engine'));
    const tsx = join(root, 'node_modules', '.bin', 'tsx');
    const test = await collect(spawn(tsx, ['--test', 'workflow.test.mts'], { cwd: dir, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(test.stdout + test.stderr).toMatch(/# pass 1\n# fail 0/);
    expect(test.code).toBe(0);
  });

  it('writes tools an ES module wherever it lands, so commands import it compiled and cached, not through tsx (it cost ~5x CPU per command)', async () => {
    const cwd = emptyDir();
    expect((await stepwise(cwd, ['init'])).code).toBe(0);
    expect(readFileSync(join(cwd, 'workflow.yaml'), 'utf8')).toContain('\ntools: ./tools.mts\n');
    const cache = join(emptyDir(), 'cache');
    const env = baseEnv({ STEPWISE_CACHE_DIR: cache });
    const validate = await collect(spawn(process.execPath, [main, 'validate', 'workflow.yaml'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(validate.code).toBe(0);
    expect(existsSync(join(cache, 'ts')) && readdirSync(join(cache, 'ts')).length).toBeGreaterThan(0);
  });

  it('refuses to overwrite a file, in one line, and writes nothing', async () => {
    const cwd = emptyDir();
    expect((await stepwise(cwd, ['init'])).code).toBe(0);
    const again = await stepwise(cwd, ['init', '.']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^stepwise: init writes no file that exists already: workflow\.yaml, workflow\.input\.json, tools\.mts, workflow\.test\.mts; /);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    // The workflow id comes from the directory's name.
    expect(readFileSync(join(cwd, 'workflow.yaml'), 'utf8')).toContain(`\nid: ${basename(cwd)}\n`);
  });
});
