/** `test <file>`: walk every path of a definition on the emulator and report what is wrong. */
import type { Command } from 'commander';
import type { TestFlags } from '../actions/test.js';

export function registerTestCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('test <file>')
    .description('walk every path of a definition on the emulator: unreachable steps, dead ends, paths that can exceed the budget; exit 1 if any')
    .option('--input <json|@file>', 'the run input (default: <file>.input.json next to the definition, if any)')
    .option('--seed <n>', 'emulator seed', '1')
    .option('--faults <spec>', 'emulator faults')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: TestFlags) => (await import('../actions/test.js')).action(file, opts, setExit));
}
