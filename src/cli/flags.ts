/**
 * The flags several commands share. Only commander here: every command
 * registers its flags at start-up, before its implementation is loaded.
 */
import type { Command } from 'commander';

/** `--emulator`, for the commands that drive runs. */
export const EMULATOR_OPTION = ['--emulator', 'use the built-in emulator (a simulated model), even when ANTHROPIC_* is set; needed without a configured model except on the default store'] as const;

/** The model server flags of the long-running commands (`worker`, `serve`). */
export function modelServerFlags(command: Command): Command {
  return command
    .option(...EMULATOR_OPTION)
    .option('--seed <n>', 'emulator seed (with --emulator)')
    .option('--faults <spec>', 'emulator faults')
    .option('--timeout <duration>', 'per-request model timeout, e.g. 30s')
    .option('--max-retries <n>', 'HTTP retries the SDK makes within one step attempt');
}

/** The flags `run`, `resume` and `send` share. */
export function runFlags(command: Command): Command {
  return command
    .option('--store <spec>', 'memory | sqlite:<path> | postgres:<url> | postgres://… (default sqlite:.stepwise/stepwise.db)')
    .option('--json', 'print the run as one JSON object on the last stdout line')
    .option('--seed <n>', 'emulator seed (default 1, or the run\'s own)')
    .option('--faults <spec>', 'emulator faults: a profile (none, flaky, hostile) or name=value,…')
    .option('--timeout <duration>', 'per-request model timeout, e.g. 30s')
    .option('--max-retries <n>', 'HTTP retries the SDK makes within one step attempt (default 2)')
    .option('--record <file>', 'record the model replies to a cassette file (appends)')
    .option('--replay <file>', 'answer model requests from a cassette file; no model server')
    .option(...EMULATOR_OPTION);
}

/** The environment variable `serve` takes its API token from when `--token` is not given. */
export const TOKEN_ENV = 'STEPWISE_TOKEN';
