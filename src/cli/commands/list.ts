/** `list`: the runs of a store, newest first, filtered, with totals. */
import type { Command } from 'commander';
import { runStatuses as statuses } from '../../run/types.js';
import type { ListFlags } from '../actions/list.js';

export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('list runs, newest first')
    .option('--store <spec>', 'store spec')
    .option('--status <status...>', `only these statuses (${statuses.join(', ')})`)
    .option('--workflow <id>', 'only runs of this workflow')
    .option('--limit <n>', 'at most n runs', '100')
    .option('--children', 'include child runs (of workflow and map steps), hidden by default')
    .option('--json', 'print one JSON array')
    .action(async (opts: ListFlags) => (await import('../actions/list.js')).action(opts));
}
