/** `rerun <runId> --from <step>`: a new run that keeps the outputs of the steps before `<step>`. */
import type { Command } from 'commander';
import type { RerunFlags } from '../actions/rerun.js';
import { EMULATOR_OPTION } from '../flags.js';

export function registerRerunCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('rerun <runId>')
    .description('rerun a finished or failed run from a step as a new run, keeping the outputs of the steps before it')
    .requiredOption('--from <step>', 'the first step to run again')
    .option('--definition <file>', 'run on this (changed) definition instead of the one the run started with')
    .option('--store <spec>', 'store spec')
    .option('--seed <n>', 'emulator seed (default: the run\'s own)')
    .option('--faults <spec>', 'emulator faults (default: the run\'s own)')
    .option('--replay <file>', 'answer model requests from a cassette file')
    .option('--json', 'print the new run as JSON')
    .option(...EMULATOR_OPTION)
    .action(async (runId: string, opts: RerunFlags) => (await import('../actions/rerun.js')).action(runId, opts, setExit));
}
