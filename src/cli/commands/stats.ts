/** `stats`: completion rate, tokens and cost per run, failures by kind, for a store. */
import type { Command } from 'commander';
import type { StatsFlags } from '../actions/stats.js';

export function registerStatsCommand(program: Command): void {
  program
    .command('stats')
    .description('summarise a store: completion rate, tokens and cost per run, failures by kind')
    .option('--store <spec>', 'store spec')
    .option('--workflow <id>', 'only runs of this workflow')
    .option('--status <status...>', 'only these statuses')
    .option('--limit <n>', 'newest n runs at most', '10000')
    .option('--json', 'print one JSON object')
    .action(async (opts: StatsFlags) => (await import('../actions/stats.js')).action(opts));
}
