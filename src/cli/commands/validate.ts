/** `validate <files...>`: check definitions, print each one's worst-case tokens and warn past its budget. */
import type { Command } from 'commander';
import type { ValidateFlags } from '../actions/validate.js';

export function registerValidateCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('validate <files...>')
    .description('check definitions; prints file:line:col: message for each problem')
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], opts: ValidateFlags) => (await import('../actions/validate.js')).action(files, opts, setExit));
}
