/**
 * `stepwise bench --postgres`: the PostgreSQL arm on its own, on the same
 * scenarios a full run gives it (the first 60 of `--scenarios`, `--seed`);
 * its section and its targets replace theirs in latest.json, the rest is kept.
 */
import { loadavg } from 'node:os';
import { DEFAULT_BENCH_POSTGRES, POSTGRES_SCENARIOS, postgresThroughput } from './postgres.js';
import { postgresSection } from './report-sections.js';
import { generateScenarios } from './scenarios.js';
import { isPostgresTarget, postgresTargets, replaceTargets, targetsTable, type Target } from './targets.js';

/**
 * Measures the arm and returns the sections of latest.json it replaces, and its table.
 * @example
 * const { sections, table } = await postgresOnly(previousLatestJson, { scenarios: 200, seed: 1 });
 */
export async function postgresOnly(
  previous: Record<string, unknown>,
  options: { readonly scenarios: number; readonly seed: number; readonly url?: string; readonly onProgress?: (message: string) => void },
): Promise<{ sections: Record<string, unknown>; table: string }> {
  const scenarios = generateScenarios(options.seed, options.scenarios).slice(0, POSTGRES_SCENARIOS);
  options.onProgress?.(`PostgreSQL store, 1/2/4 worker processes on ${scenarios.length} scenarios (load average ${loadavg()[0]?.toFixed(1)}), against raw one-statement transactions`);
  const postgres = await postgresThroughput(scenarios, {
    url: options.url ?? process.env['STEPWISE_BENCH_POSTGRES'] ?? DEFAULT_BENCH_POSTGRES,
    claimSamples: Math.min(20, scenarios.length),
  });
  const fresh = postgresTargets(postgres);
  const targets = withPostgresTargets(Array.isArray(previous['targets']) ? (previous['targets'] as Target[]) : [], fresh);
  return { sections: { postgres, targets }, table: [...postgresSection({ postgres }), '', ...targetsTable(fresh)].join('\n') };
}

/** `targets` with its PostgreSQL targets replaced by `fresh` ({@link replaceTargets}). */
export function withPostgresTargets(targets: readonly Target[], fresh: readonly Target[]): Target[] {
  return replaceTargets(targets, fresh, isPostgresTarget);
}
