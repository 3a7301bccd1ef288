/** Spawning the built CLI (`dist/cli/main.js`, kept fresh by test/global-setup.ts) for end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const main = join(root, 'dist', 'cli', 'main.js');

/** The test's environment without a model server, so the CLI starts its emulator. */
export function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  if (!('ANTHROPIC_API_KEY' in extra)) delete env['ANTHROPIC_API_KEY'];
  if (!('ANTHROPIC_BASE_URL' in extra)) delete env['ANTHROPIC_BASE_URL'];
  if (!('ANTHROPIC_AUTH_TOKEN' in extra)) delete env['ANTHROPIC_AUTH_TOKEN'];
  return env;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = baseEnv()): ChildProcess {
  return spawn(process.execPath, [main, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function collect(child: ChildProcess): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

export const cli = (args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliResult> => collect(spawnCli(args, env));

/** An ES module `script` run by `node -e` from the package root, where it imports the built package by its name. */
export const nodeScript = (script: string): Promise<CliResult> =>
  collect(spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }));

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'stepwise-cli-'));

/** `--store sqlite:<tmp>/s.db` in a fresh temporary directory. */
export const tempStore = (): string[] => ['--store', `sqlite:${join(tempDir(), 's.db')}`];

/** The last stdout line, parsed. */
export function lastJson<T = RunJson>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null') as T;
}

export interface RunJson {
  runId: string;
  workflow: string;
  status: string;
  resumable: boolean;
  output: unknown;
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
  steps: Array<{ id: string; status: string; attempts: number; tokens: number }>;
  waitingFor: { step: string; events: string[] } | null;
  failure: { kind: string; step: string | null; message: string } | null;
}

export const example = (name: string): string[] => [`definitions/${name}`, '--input', `@definitions/${name.replace(/\.(yaml|ts)$/, '')}.input.json`];

export const EMULATOR_NOTE = 'no ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL set; using the built-in emulator';
