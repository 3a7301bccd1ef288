/**
 * `bench`: runs the benchmark and writes bench/results/latest.json and
 * latest.svg; with `--startup`, `--server`, `--ablation`, `--composition`, `--tokens` or
 * `--postgres`, only those measures, each written into latest.json under its own key (the other keys kept).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ablationBenchmark } from '../../bench/ablation.js';
import { formatAblation } from '../../bench/ablation-report.js';
import { formatTable, renderSvg } from '../../bench/report.js';
import { runBenchmark } from '../../bench/run.js';
import { formatServerTable, serverBenchmark } from '../../bench/server.js';
import { compositionBenchmark } from '../../bench/composition.js';
import { formatCompositionTable } from '../../bench/composition-report.js';
import { compositionTargets, isCompositionTarget, replaceTargets, type Target } from '../../bench/targets.js';
import { formatStartupTable, startupBenchmark } from '../../bench/startup.js';
import { postgresOnly } from '../../bench/postgres-only.js';
import { formatTokensTable, tokensBenchmark } from '../../bench/tokens-only.js';
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
  startup?: boolean;
  runs: string;
  server?: boolean;
  clients: string;
  ablation?: boolean;
  ablationScenarios: string;
  composition?: boolean;
  tokens?: boolean;
  postgres?: boolean;
  json?: boolean;
}

/** The sections of latest.json measured on their own (`--startup`, `--server`): a full run keeps them. */
const SECTIONS = ['startup', 'server'] as const;

function readResults(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? { ...parsed } : {};
  } catch {
    return {};
  }
}

export async function action(opts: BenchFlags): Promise<void> {
  const progress = createProgress();
  const onProgress = (message: string) => progress.line(color.dim(`bench: ${message}`));
  const dir = resolve(opts.out);
  const file = join(dir, 'latest.json');
  const previous = readResults(file);
  mkdirSync(dir, { recursive: true });

  const ablationScenarios = Math.max(0, parseIntArg(opts.ablationScenarios, '--ablation-scenarios') ?? 40);
  if (opts.startup || opts.server || opts.ablation || opts.composition || opts.tokens || opts.postgres) {
    const sections: Record<string, unknown> = {};
    const tables: string[] = [];
    if (opts.startup) {
      const startup = await startupBenchmark({ runs: Math.max(1, parseIntArg(opts.runs, '--runs') ?? 7), onProgress });
      sections['startup'] = startup;
      tables.push(formatStartupTable(startup));
    }
    if (opts.server) {
      const server = await serverBenchmark({ clients: Math.max(1, parseIntArg(opts.clients, '--clients') ?? 50), onProgress });
      sections['server'] = server;
      tables.push(formatServerTable(server));
    }
    if (opts.ablation) {
      const ablation = await ablationBenchmark({
        scenarios: Math.max(1, ablationScenarios),
        profile: opts.profile,
        seed: parseIntArg(opts.seed, '--seed') ?? 1,
        concurrency: Math.max(1, parseIntArg(opts.concurrency, '--concurrency') ?? 4),
        onProgress,
      });
      sections['ablation'] = ablation;
      tables.push(formatAblation(ablation).join('\n'));
    }
    if (opts.composition) {
      const composition = await compositionBenchmark({ onProgress });
      sections['composition'] = composition;
      const targets = Array.isArray(previous['targets']) ? (previous['targets'] as Target[]) : [];
      sections['targets'] = replaceTargets(targets, compositionTargets(composition), isCompositionTarget);
      tables.push(formatCompositionTable(composition));
    }
    if (opts.tokens) {
      const tokens = await tokensBenchmark({
        scenarios: Math.max(1, parseIntArg(opts.scenarios, '--scenarios') ?? 200),
        profile: opts.profile,
        seed: parseIntArg(opts.seed, '--seed') ?? 1,
        concurrency: Math.max(1, parseIntArg(opts.concurrency, '--concurrency') ?? 4),
        onProgress,
        onTick: (arm, done, total) => progress.status(`${arm} arm: ${done}/${total} scenarios`),
      });
      sections['tokens'] = tokens;
      tables.push(formatTokensTable(tokens));
    }
    if (opts.postgres) {
      const measured = await postgresOnly({ ...previous, ...sections }, { scenarios: parseIntArg(opts.scenarios, '--scenarios') ?? 200, seed: parseIntArg(opts.seed, '--seed') ?? 1, onProgress });
      Object.assign(sections, measured.sections);
      tables.push(measured.table);
    }
    progress.done();
    writeFileSync(file, `${JSON.stringify({ ...previous, ...sections }, null, 2)}\n`);
    process.stdout.write(`${tables.join('\n\n')}\n`);
    process.stderr.write(`${color.dim(`bench: wrote ${Object.keys(sections).join(' and ')} into ${file}`)}\n`);
    if (opts.json) process.stdout.write(`${JSON.stringify(sections)}\n`);
    return;
  }

  const result = await runBenchmark({
    scenarios: parseIntArg(opts.scenarios, '--scenarios') ?? 200,
    profile: opts.profile,
    seed: parseIntArg(opts.seed, '--seed') ?? 1,
    passes: Math.max(1, parseIntArg(opts.passes, '--passes') ?? 1),
    parkedRuns: parseIntArg(opts.parked, '--parked') ?? 10_000,
    concurrency: Math.max(1, parseIntArg(opts.concurrency, '--concurrency') ?? 4),
    skipLanggraph: !opts.langgraph,
    ablationScenarios,
    onProgress,
    onTick: (arm, done, total) => progress.status(`${arm} arm: ${done}/${total} scenarios`),
  });
  progress.done();
  const kept = Object.fromEntries(SECTIONS.filter((key) => key in previous).map((key) => [key, previous[key]]));
  writeFileSync(file, `${JSON.stringify({ ...result, ...kept }, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.svg'), renderSvg(result));
  process.stdout.write(`${formatTable(result)}\n`);
  process.stderr.write(`${color.dim(`bench: wrote ${file} and latest.svg in ${result.durationSeconds} s`)}\n`);
  if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}
