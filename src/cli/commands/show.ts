/** `show <runId>`: the timeline of one run (steps, attempts, tokens, latency, errors); `--json` prints the query layer's run detail. */
import type { Command } from 'commander';
import type { ShowFlags } from '../actions/show.js';

export function registerShowCommand(program: Command): void {
  program
    .command('show <runId>')
    .description('the timeline of one run: steps, attempts, tokens, latency, errors')
    .option('--store <spec>', 'store spec')
    .option('--json', 'print the run object plus its journal')
    .action(async (runId: string, opts: ShowFlags) => (await import('../actions/show.js')).action(runId, opts));
}
