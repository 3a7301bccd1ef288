/**
 * `inspect <file|runId>`: runs a definition (or continues a stored run) with
 * its actor connected to the Stately inspector, and prints the URL to open.
 */
import type { Command } from 'commander';
import type { InspectFlags } from '../actions/inspect.js';
import { EMULATOR_OPTION } from '../flags.js';

export function registerInspectCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('inspect <fileOrRunId>')
    .description('run a definition (or continue a stored run) live in the Stately inspector; prints the URL to open')
    .option('--store <spec>', 'store spec')
    .option('--port <n>', 'port of the inspector page and WebSocket relay', '8080')
    .option('--input <json|@file>', 'the run input (when starting a definition)')
    .option('--seed <n>', 'emulator seed')
    .option('--faults <spec>', 'emulator faults')
    .option('--exit', 'exit once the run comes to rest instead of serving the inspector until Ctrl-C')
    .option(...EMULATOR_OPTION)
    .option('--json', 'print the run as JSON')
    .action(async (target: string, opts: InspectFlags) => (await import('../actions/inspect.js')).action(target, opts, setExit));
}
