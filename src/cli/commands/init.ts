/** `init [dir]`: write a first workflow (definition, input, TypeScript tools, test) that validates and runs as is. */
import type { Command } from 'commander';

export function registerInitCommand(program: Command): void {
  program
    .command('init [dir]')
    .description('write a first workflow into dir (default: the current directory): definition, input, TypeScript tools, test')
    .action(async (dir: string | undefined) => (await import('../actions/init.js')).action(dir));
}
