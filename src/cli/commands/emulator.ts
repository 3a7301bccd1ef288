/** `emulator`: run the Messages API emulator as a server until stopped. */
import type { Command } from 'commander';
import type { EmulatorFlags } from '../actions/emulator.js';

export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description('serve the Messages API emulator (POST /v1/messages, /v1/messages/count_tokens)')
    .option('--port <n>', 'port (default 4010; 0 picks a free one)', '4010')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', 'seed of the simulated model', '1')
    .option('--faults <spec>', 'a profile (none, flaky, hostile) or name=value,…')
    .action(async (opts: EmulatorFlags) => (await import('../actions/emulator.js')).action(opts));
}
