/** `resume <runId>`: continue a run that stopped (budget exhausted, failed, crashed, due timers). */
import type { Command } from 'commander';
import type { ResumeFlags } from '../actions/resume.js';
import { runFlags } from '../flags.js';

export function registerResumeCommand(program: Command, setExit: (code: number) => void): void {
  runFlags(program.command('resume <runId>').description('continue a run that stopped: budget exhausted, failed, crashed or with due timers'))
    .option('--budget <tokens>', 'new total token budget of the run')
    .action(async (runId: string, opts: ResumeFlags) => (await import('../actions/resume.js')).action(runId, opts, setExit));
}
