/** `bench`: runs the benchmark and writes bench/results/latest.json and latest.svg. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatTable, renderSvg } from '../../bench/report.js';
import { runBenchmark } from '../../bench/run.js';
import { color, parseIntArg } from '../io.js';
import { createProgress } from '../progress.js';

export interface BenchFlags {
  scenarios: string;
  profile: string;
  seed: string;
  passes: string;
  parked: string;
  concurrency: string;
  out: string;
  langgraph: boolean;
  json?: boolean;
}

export async function action(opts: BenchFlags): Promise<void> {
  const progress = createProgress();
  const result = await runBenchmark({
    scenarios: parseIntArg(opts.scenarios, '--scenarios') ?? 200,
    profile: opts.profile,
    seed: parseIntArg(opts.seed, '--seed') ?? 1,
    passes: Math.max(1, parseIntArg(opts.passes, '--passes') ?? 1),
    parkedRuns: parseIntArg(opts.parked, '--parked') ?? 10_000,
    concurrency: Math.max(1, parseIntArg(opts.concurrency, '--concurrency') ?? 4),
    skipLanggraph: !opts.langgraph,
    onProgress: (message) => progress.line(color.dim(`bench: ${message}`)),
    onTick: (arm, done, total) => progress.status(`${arm} arm: ${done}/${total} scenarios`),
  });
  progress.done();
  const dir = resolve(opts.out);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.svg'), renderSvg(result));
  process.stdout.write(`${formatTable(result)}\n`);
  process.stderr.write(`${color.dim(`bench: wrote ${join(dir, 'latest.json')} and latest.svg in ${result.durationSeconds} s`)}\n`);
  if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}
