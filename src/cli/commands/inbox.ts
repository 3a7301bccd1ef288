/** `inbox`: the steps of every run waiting for a person, newest first: waits (with their `show` data) and tool inputs under review. */
import type { Command } from 'commander';
import type { InboxFlags } from '../actions/inbox.js';

export function registerInboxCommand(program: Command): void {
  program
    .command('inbox')
    .description('steps waiting for a person, newest first')
    .option('--store <spec>', 'store spec')
    .option('--workflow <id>', 'only runs of this workflow')
    .option('--limit <n>', 'at most n entries', '100')
    .option('--json', 'print one JSON array')
    .action(async (opts: InboxFlags) => (await import('../actions/inbox.js')).action(opts));
}
