/** `prune`: delete stopped runs (and their journals) last updated longer ago than a duration. */
import type { Command } from 'commander';
import { finishedStatuses } from '../../run/types.js';
import type { PruneFlags } from '../actions/prune.js';

export function registerPruneCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('prune')
    .description('delete finished runs (and their journals) last updated longer ago than a duration')
    .requiredOption('--older-than <duration>', 'e.g. 30d, 12h, 0s')
    .option('--status <status...>', `statuses to prune (default ${finishedStatuses.join(', ')})`)
    .option('--store <spec>', 'store spec')
    .option('--json', 'print {"pruned": n}')
    .action(async (opts: PruneFlags) => (await import('../actions/prune.js')).action(opts, setExit));
}
