/** The model server options of the run-related commands, from their flags (src/cli/flags.ts). */
import { modelRequirement, type CommonOptions } from './context.js';
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
