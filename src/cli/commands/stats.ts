/** `stats`: completion rate, tokens and cost per run, failures by kind, for a store. */
import type { Command } from 'commander';
import type { RunStatus } from '../../run/types.js';
import { renderStats } from '../../observe/stats.js';
import { runStats } from '../../query/stats.js';
import { parseIntArg } from '../io.js';
import { withStore } from '../context.js';

export function registerStatsCommand(program: Command): void {
  program
    .command('stats')
    .description('summarise a store: completion rate, tokens and cost per run, failures by kind')
    .option('--store <spec>', 'store spec')
    .option('--workflow <id>', 'only runs of this workflow')
    .option('--status <status...>', 'only these statuses')
    .option('--limit <n>', 'newest n runs at most', '10000')
    .option('--json', 'print one JSON object')
    .action(async (opts: { store?: string; workflow?: string; status?: string[]; limit: string; json?: boolean }) => {
      await withStore(opts.store, async (store) => {
        const stats = await runStats(store, {
          ...(opts.workflow ? { workflow: opts.workflow } : {}),
          ...(opts.status ? { status: opts.status as RunStatus[] } : {}),
          limit: parseIntArg(opts.limit, '--limit') ?? 10000,
        });
        process.stdout.write(opts.json ? `${JSON.stringify(stats)}\n` : `${renderStats(stats).join('\n')}\n`);
      });
    });
}
