/** `redrive <runId>`: a run that failed in a map step runs its failed items again (keeping the others) and goes on. */
import type { Command } from 'commander';
import type { CommonOptions } from '../context.js';
import { runFlags } from '../flags.js';

export function registerRedriveCommand(program: Command, setExit: (code: number) => void): void {
  runFlags(program.command('redrive <runId>').description('re-run only the failed items of a failed map step, keep the outputs of the others, and continue the run')).action(
    async (runId: string, opts: CommonOptions) => (await import('../actions/redrive.js')).action(runId, opts, setExit),
  );
}
