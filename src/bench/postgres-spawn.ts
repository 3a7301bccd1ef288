/**
 * Starts the PostgreSQL arm's processes (./postgres-process.ts, run from the
 * built `dist/`), one per task, and drives them together: every process
 * connects first, then all are told `go` at once, so process start-up and
 * connecting are outside the measured span.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../util/package-root.js';
import type { ProcessReport, ProcessTask } from './postgres-fleet.js';

/** The built process entry. */
const entry = join(packageRoot, 'dist', 'bench', 'postgres-process.js');

export interface Fleet {
  /** Tells every process to start. */
  go(): void;
  /** Tells `listen` workers to drain and stop. */
  stop(): void;
  /** Every process's report, once all have ended. */
  readonly reports: Promise<ProcessReport[]>;
}

function lastLine(child: ChildProcess, onReady: () => void): Promise<ProcessReport> {
  return new Promise((resolve, reject) => {
    let last = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-2000)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === '"ready"') onReady();
      else last = line;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        const parsed = JSON.parse(last) as ProcessReport | { error: string };
        if ('error' in parsed) return reject(new Error(`PostgreSQL bench process: ${parsed.error}`));
        if (code === 0) return resolve(parsed);
      } catch {
        // reported below
      }
      reject(new Error(`PostgreSQL bench process exited ${code}: ${stderr.trim() || last}`));
    });
  });
}

/**
 * Starts one process per task and resolves once every one is connected and waiting for `go`.
 * @example
 * const fleet = await startFleet([{ mode: 'raw', url, schema, id: 1, count: 500 }]);
 * fleet.go();
 * const [report] = await fleet.reports;
 */
export async function startFleet(tasks: readonly ProcessTask[]): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-pg-'));
  const children: ChildProcess[] = [];
  let readyCount = 0;
  let allReady: () => void = () => {};
  const ready = new Promise<void>((done) => (allReady = done));
  const reports = Promise.all(
    tasks.map((task, i) => {
      const file = join(dir, `task-${i}.json`);
      writeFileSync(file, JSON.stringify(task));
      const child = spawn(process.execPath, [entry, file], { stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(child);
      return lastLine(child, () => {
        if (++readyCount === tasks.length) allReady();
      });
    }),
  ).finally(() => rmSync(dir, { recursive: true, force: true }));
  const say = (word: string) => children.forEach((c) => c.stdin?.write(`${word}\n`));
  // A process that fails before it is ready rejects the reports: stop waiting then, and end the others.
  const failed = reports.then(() => {}, (error: unknown) => {
    children.forEach((c) => c.kill());
    throw error;
  });
  failed.catch(() => {}); // awaited through `reports` by the caller
  await Promise.race([ready, failed]);
  return { go: () => say('go'), stop: () => say('stop'), reports };
}
