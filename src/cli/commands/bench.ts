/** `bench`: the stateless-vs-Stepwise head-to-head, engine overhead and memory, in one run. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { formatTable, renderSvg } from '../../bench/report.js';
import { runBenchmark } from '../../bench/run.js';
import { color, parseIntArg } from '../io.js';
import { createProgress } from '../progress.js';

interface BenchFlags {
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

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('run the benchmark: SDK tool runner vs Stepwise on the emulator, engine overhead vs LangGraph.js and the raw limit')
    .option('--scenarios <n>', 'generated workflows', '200')
    .option('--profile <name>', 'emulator fault profile or spec (none, flaky, hostile, name=value,…)', 'flaky')
    .option('--seed <n>', 'seed of the scenarios and the emulator', '1')
    .option('--passes <n>', 'timed passes over the scenarios per overhead measurement (the best one counts)', '2')
    .option('--parked <n>', 'runs parked at a wait step for the memory measure (0 skips it)', '10000')
    .option('--concurrency <n>', 'scenarios run at once in the model arms', '4')
    .option('--out <dir>', 'where latest.json and latest.svg go', 'bench/results')
    .option('--no-langgraph', 'skip the LangGraph.js overhead arm')
    .option('--json', 'print the result as JSON on the last stdout line')
    .action(async (opts: BenchFlags) => {
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
    });
}
