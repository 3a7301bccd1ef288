/**
 * A breaker opened by one process routes another process around the tool:
 * two child processes on one SQLite file, then on one PostgreSQL schema.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { PG_URL, testSchemas } from '../pg.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const child = join(root, 'test/guards/fixtures/breaker-process.ts');
const schemas = testSchemas('breaker');

interface ChildResult {
  status: string;
  output: { handledBy: string; error?: string };
  calls: number;
  breaker: Array<{ tool: string; from: string; to: string }>;
  pid: number;
}

function runProcess(store: string, mode: 'down' | 'up'): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, store, mode], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => {
      if (code !== 0) return reject(new Error(`child exited ${code}: ${stderr}`));
      resolvePromise(JSON.parse(stdout.trim().split('\n').pop() ?? 'null') as ChildResult);
    });
  });
}

async function sharedBreaker(store: string): Promise<void> {
  const opener = await runProcess(store, 'down');
  expect(opener.output).toEqual({ handledBy: 'manual', error: 'breaker_open' });
  expect(opener.calls).toBe(2);
  expect(opener.breaker).toEqual([expect.objectContaining({ tool: 'vendor_api', from: 'closed', to: 'open' })]);

  const other = await runProcess(store, 'up'); // its tool works, but the breaker is open for an hour
  expect(other.pid).not.toBe(opener.pid);
  expect(other.status).toBe('done');
  expect(other.output).toEqual({ handledBy: 'manual', error: 'breaker_open' });
  expect(other.calls).toBe(0);
}

describe('breaker shared across processes', { timeout: SPAWN_BUDGET_MS }, () => {
  it('two processes on one SQLite file', async () => {
    await sharedBreaker(`sqlite:${join(mkdtempSync(join(tmpdir(), 'stepwise-breaker-')), 'runs.db')}`);
  });

  it('two processes on one PostgreSQL schema', async () => {
    const schema = schemas.name();
    try {
      await sharedBreaker(`postgres:${PG_URL}?schema=${schema}`);
    } finally {
      await schemas.drop(schema);
    }
  });
});
