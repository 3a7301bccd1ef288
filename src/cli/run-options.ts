/** The flags `run`, `resume` and `send` share, and the model server options they give. */
import type { Command } from 'commander';
import { EMULATOR_OPTION, modelRequirement, type CommonOptions } from './context.js';
import { parseIntArg } from './io.js';

/** The model server of a command: its flags, else the seed and faults stored with the run. */
export const serverOptions = (opts: CommonOptions, stored?: { seed?: number; faults?: string }) => ({
  seed: parseIntArg(opts.seed, '--seed') ?? stored?.seed,
  faults: opts.faults ?? stored?.faults,
  timeout: opts.timeout,
  maxRetries: parseIntArg(opts.maxRetries, '--max-retries'),
  record: opts.record,
  replay: opts.replay,
  emulator: opts.emulator,
  requireModel: modelRequirement(opts.store),
});

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
