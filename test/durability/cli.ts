/** Spawning the built CLI (`dist/cli/main.js`, built by test/global-setup.ts) for the durability tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '../..');
export const main = path.join(root, 'dist/cli/main.js');

export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  delete env['ANTHROPIC_API_KEY'];
  delete env['ANTHROPIC_BASE_URL'];
  if (!extra['STEPWISE_CRASH_AT']) delete env['STEPWISE_CRASH_AT'];
  return env;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function startCli(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [main, ...args], { cwd: root, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Waits for a started CLI process; `killAfterMs` sends SIGKILL after that long if it still runs. */
export function finish(child: ChildProcess, killAfterMs?: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = killAfterMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return finish(startCli(args, env));
}

/** The last stdout line as JSON. */
export function lastJson<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

/** Resolves once the process has written `text` on stderr. */
export function waitForStderr(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(text)) {
        child.stderr!.off('data', onData);
        resolve();
      }
    };
    child.stderr!.on('data', onData);
    child.on('close', () => reject(new Error(`exited before writing "${text}": ${seen.slice(-400)}`)));
  });
}

/**
 * Runs the CLI once with `crashAt` (which must kill it), then resumes (or starts again, when the kill
 * came before the run existed) until the run is done or a recovery fails; problems found are pushed.
 */
export async function killThenRecover(opts: {
  runId: string;
  args: readonly string[];
  store: string;
  crashAt: string;
  env: Record<string, string>;
  exists: () => Promise<boolean>;
  problems: string[];
  afterKill?: () => Promise<readonly string[]>;
}): Promise<string> {
  const first = await finish(startCli(opts.args, { ...opts.env, STEPWISE_CRASH_AT: opts.crashAt }));
  if (first.signal !== 'SIGKILL') opts.problems.push(`${opts.crashAt} did not kill (exit ${first.code}): ${first.stderr.slice(-300)}`);
  if (opts.afterKill) opts.problems.push(...(await opts.afterKill()));
  let status = 'killed';
  for (let i = 0; i < 4 && status !== 'done'; i++) {
    const command = (await opts.exists()) ? ['resume', opts.runId, '--store', opts.store, '--emulator', '--json'] : opts.args;
    const result = await finish(startCli(command, opts.env));
    if (result.code !== 0) {
      opts.problems.push(`recovery exited ${result.code}: ${result.stderr.slice(-400)}`);
      break;
    }
    status = lastJson<{ status: string }>(result.stdout).status;
  }
  return status;
}
