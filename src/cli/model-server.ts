/**
 * Which model server a CLI command talks to: the SDK's own environment
 * handling when `ANTHROPIC_API_KEY` or `ANTHROPIC_BASE_URL` is set, otherwise
 * the embedded emulator, started for the command with the run's seed and faults.
 * The emulator is chosen without being asked for only where a mistake costs
 * nothing (a run on the default SQLite file, the demo): a command that drives
 * real runs elsewhere (`worker`, any other store) refuses to start without a
 * configured model or an explicit `--emulator`, since the workflow's tools
 * would run for real on made-up inputs.
 */
import { parseFaults, startEmulator } from '../emulator/index.js';
import { StepwiseError } from '../errors.js';
import { environmentHasModel } from '../model/client.js';
import { parseDuration } from '../util/duration.js';
import { recordingServer, replayServer } from './cassette-server.js';
import type { ModelServer } from './model-server-type.js';

/** Per-request timeout against the built-in emulator when `--timeout` is not given. */
const EMULATOR_TIMEOUT_MS = 10_000;

export type { ModelServer } from './model-server-type.js';

export interface ModelServerOptions {
  readonly seed?: number | undefined;
  readonly faults?: string | undefined;
  readonly timeout?: string | undefined;
  readonly maxRetries?: number | undefined;
  /** Record the model replies to this cassette file (appending). */
  readonly record?: string | undefined;
  /** Answer model requests from this cassette file; no model server is used. */
  readonly replay?: string | undefined;
  /** `--emulator`: use the built-in emulator, even when `ANTHROPIC_*` is set. */
  readonly emulator?: boolean | undefined;
  /**
   * What drives real runs here (e.g. "stepwise worker"): set, the emulator is
   * not chosen implicitly, and without a configured model or `emulator` opening fails.
   */
  readonly requireModel?: string | undefined;
  readonly log: (line: string) => void;
}

export async function openModelServer(options: ModelServerOptions): Promise<ModelServer> {
  if (options.replay) return replayServer(options.replay, options.log, options.maxRetries);
  const server = await openLiveModelServer(options);
  return options.record ? recordingServer(server, options.record, options.log) : server;
}

async function openLiveModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const timeoutMs = options.timeout ? parseDuration(options.timeout) : undefined;
  const tuning = {
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
  };
  if (!options.emulator && environmentHasModel()) {
    if (options.faults) options.log('stepwise: --faults only applies to the built-in emulator; ignored for the configured model server');
    return { model: tuning, emulator: null, close: async () => {} };
  }
  if (!options.emulator && options.requireModel) {
    throw new StepwiseError(
      'usage',
      `${options.requireModel} needs a configured model: set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for another Messages API server), ` +
        'or pass --emulator to use the built-in emulator (simulated model replies; the workflow\'s tools still run for real).',
    );
  }
  const emulator = await startEmulator({ seed: options.seed ?? 1, ...(options.faults ? { faults: options.faults } : {}) });
  // The emulator answers at once unless told to be slow: a `timeout` fault then costs seconds, not the SDK's minute.
  if (timeoutMs === undefined) {
    const latency = options.faults ? (parseFaults(options.faults).latency ?? 0) : 0;
    Object.assign(tuning, { timeoutMs: Math.max(EMULATOR_TIMEOUT_MS, latency * 3 + 1000) });
  }
  const why = options.emulator ? '--emulator' : 'no ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL set';
  options.log(`stepwise: ${why}; using the built-in emulator at ${emulator.url} (seed ${options.seed ?? 1}, faults ${options.faults ?? 'none'})`);
  return {
    model: { baseURL: emulator.url, apiKey: 'stepwise-emulator', ...tuning },
    emulator,
    close: () => emulator.close(),
  };
}
