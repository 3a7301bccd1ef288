/**
 * `stepwise bench --startup`: how long the CLI takes to start, as a user sees
 * it: the median wall time of several runs of a process per command, one
 * process at a time, beside a bare `node -e ""`, against the targets of the
 * commands people type most (`--help`, `validate`, `run` to its approval wait
 * on the built-in emulator).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot } from '../util/package-root.js';
import { round } from './load.js';

export interface StartupBenchOptions {
  /** Processes per command (default 7); the median counts. */
  readonly runs?: number;
  /** The package root, where `dist/cli/main.js` and `definitions/` are (default: this package). */
  readonly root?: string;
  readonly onProgress?: (message: string) => void;
}

export interface StartupMeasure {
  readonly name: string;
  readonly command: string;
  readonly medianMs: number;
  readonly minMs: number;
  /** The median beyond a bare `node -e ""`: what the CLI itself costs. */
  readonly overNodeMs: number;
  readonly targetMs: number | null;
  readonly met: boolean | null;
}

export interface StartupBenchResult {
  readonly runs: number;
  readonly commands: readonly StartupMeasure[];
  /** The 1-minute load average when the measure began (the machine may be shared). */
  readonly loadAverage: number;
  readonly node: string;
  readonly measuredAt: string;
}

/** One process to completion; its wall time in ms. Fails naming the command when it exits other than 0. */
function timeProcess(args: readonly string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // No configured model: `run` uses the built-in emulator, as on a fresh checkout.
    const env = { ...process.env, ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: '', NO_COLOR: '1' };
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`node ${args.join(' ')} exited with ${code}: ${stderr.slice(0, 500)}`));
    });
  });
}

/** Measures start-up; see the module comment. */
export async function startupBenchmark(options: StartupBenchOptions = {}): Promise<StartupBenchResult> {
  const runs = Math.max(1, options.runs ?? 7);
  const root = options.root ?? packageRoot;
  const cli = join(root, 'dist', 'cli', 'main.js');
  const scratch = mkdtempSync(join(tmpdir(), 'stepwise-bench-startup-'));
  const definition = join('definitions', 'invoice-approval.yaml');
  const commands: ReadonlyArray<{ name: string; args: (i: number) => string[]; shown: string; targetMs: number | null }> = [
    { name: 'node', args: () => ['-e', ''], shown: 'node -e ""', targetMs: null },
    { name: 'help', args: () => [cli, '--help'], shown: 'stepwise --help', targetMs: 250 },
    { name: 'validate', args: () => [cli, 'validate', definition], shown: `stepwise validate ${definition}`, targetMs: 500 },
    {
      name: 'run',
      // A fresh store each time, so every run starts (and waits) anew; --emulator as the store is not the default one.
      args: (i) => [cli, 'run', definition, '--input', '@definitions/invoice-approval.input.json', '--store', `sqlite:${join(scratch, `${i}.db`)}`, '--emulator'],
      shown: `stepwise run ${definition} --input @… (to its approval wait, emulator)`,
      targetMs: 800,
    },
  ];
  const loadAverage = round(loadavg()[0] ?? 0, 2);
  try {
    const measured: Array<Omit<StartupMeasure, 'overNodeMs'>> = [];
    for (const command of commands) {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) times.push(await timeProcess(command.args(i), root));
      times.sort((a, b) => a - b);
      const medianMs = Math.round(times[Math.floor((times.length - 1) / 2)] as number);
      options.onProgress?.(`startup: ${command.shown} median ${medianMs} ms`);
      measured.push({
        name: command.name,
        command: command.shown,
        medianMs,
        minMs: Math.round(times[0] as number),
        targetMs: command.targetMs,
        met: command.targetMs === null ? null : medianMs <= command.targetMs,
      });
    }
    const node = measured[0]?.medianMs ?? 0;
    return {
      runs,
      commands: measured.map((m) => ({ ...m, overNodeMs: m.medianMs - node })),
      loadAverage,
      node: process.version,
      measuredAt: new Date().toISOString(),
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The result as a Markdown table. */
export function formatStartupTable(r: StartupBenchResult): string {
  const lines = [
    `CLI start-up, median of ${r.runs} processes each, Node ${r.node}, load average ${r.loadAverage} at the start:`,
    '',
    '| command | median | beyond `node -e ""` | target |',
    '| --- | --- | --- | --- |',
  ];
  for (const c of r.commands) {
    const target = c.targetMs === null ? '' : `≤ ${c.targetMs} ms ${c.met ? 'met' : 'missed'}`;
    lines.push(`| \`${c.command}\` | ${c.medianMs} ms | ${c.name === 'node' ? '' : `${c.overNodeMs} ms`} | ${target} |`);
  }
  return lines.join('\n');
}
