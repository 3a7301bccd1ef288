/** Spawning the built CLI (`npm run build` first) for end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '../..');
export const main = path.join(root, 'dist/cli/main.js');

export function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env['ANTHROPIC_API_KEY'];
  delete env['ANTHROPIC_BASE_URL'];
  return env;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function start(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, [main, ...args], { cwd: root, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
}

export function cli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = start(args);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A fresh SQLite store spec in a temporary directory. */
export function tempStore(): string {
  return `sqlite:${path.join(mkdtempSync(path.join(tmpdir(), 'stepwise-obs-')), 'x.db')}`;
}

/** The last stdout line as JSON. */
export function lastJson<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

export const invoice = ['definitions/invoice-approval.yaml', '--input', '@definitions/invoice-approval.input.json'];
