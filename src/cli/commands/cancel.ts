/** `cancel <runId>`: cancel a run (status cancelled, journaled). */
import type { Command } from 'commander';
import type { CancelFlags } from '../actions/cancel.js';

export function registerCancelCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('cancel <runId>')
    .description('cancel a run (status cancelled, journaled)')
    .option('--store <spec>', 'store spec')
    .option('--json', 'print the run as JSON')
    .option('--reason <text>', 'why')
    .action(async (runId: string, opts: CancelFlags) => (await import('../actions/cancel.js')).action(runId, opts, setExit));
}
