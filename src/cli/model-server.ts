/**
 * Which model server a CLI command talks to: the SDK's own environment
 * handling when `ANTHROPIC_API_KEY` or `ANTHROPIC_BASE_URL` is set, otherwise
 * the embedded emulator, started on the command's first model request with the run's seed and faults.
 * The emulator is chosen without being asked for only where a mistake costs
 * nothing (a run on the default SQLite file, the demo): a command that drives
 * real runs elsewhere (`worker`, any other store) refuses to start without a
 * configured model or an explicit `--emulator`, since the workflow's tools
 * would run for real on made-up inputs.
 */
// Loaded with the command (not at the first model request): when a TypeScript tools module falls back to
// tsx (see definition/import-module.ts), every module imported after its import hooks go through them.
import Anthropic from '@anthropic-ai/sdk';
import { parseFaults, startEmulator, type Emulator } from '../emulator/index.js';
import { StepwiseError } from '../errors.js';
import { EMULATOR_KEY } from '../model/credentials.js';
import { environmentHasModel } from '../model/defaults.js';
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
    return { model: tuning, simulated: false, close: async () => {} };
  }
  if (!options.emulator && options.requireModel) {
    throw new StepwiseError(
      'usage',
      `${options.requireModel} needs a configured model: set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for another Messages API server), ` +
        'or pass --emulator to use the built-in emulator (simulated model replies; the workflow\'s tools still run for real).',
    );
  }
  // The emulator answers at once unless told to be slow: a `timeout` fault then costs seconds, not the SDK's minute.
  const faults = options.faults ? parseFaults(options.faults) : undefined;
  if (timeoutMs === undefined) Object.assign(tuning, { timeoutMs: Math.max(EMULATOR_TIMEOUT_MS, (faults?.latency ?? 0) * 3 + 1000) });
  const why = options.emulator ? '--emulator' : 'no ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL set';
  // Started by the first model request, so a command that makes none (a send to a tool step, a
  // rejected input) neither starts it nor prints its banner.
  let started: Promise<Emulator> | null = null;
  const start = () =>
    (started ??= startEmulator({ seed: options.seed ?? 1, ...(options.faults ? { faults: options.faults } : {}) }).then((emulator) => {
      options.log(`stepwise: ${why}; using the built-in emulator at ${emulator.url} (seed ${options.seed ?? 1}, faults ${options.faults ?? 'none'})`);
      return emulator;
    }));
  const fetch: Fetch = async (input, init) => {
    const url = `${(await start()).url}${urlOf(input).slice(LAZY_BASE_URL.length)}`;
    return globalThis.fetch(input instanceof Request ? new Request(url, input) : url, init);
  };
  const apiKey = EMULATOR_KEY;
  const client = new Anthropic({
    baseURL: LAZY_BASE_URL,
    apiKey,
    fetch,
    ...(tuning.timeoutMs !== undefined ? { timeout: tuning.timeoutMs } : {}),
    ...(tuning.maxRetries !== undefined ? { maxRetries: tuning.maxRetries } : {}),
  });
  return {
    model: { client, baseURL: LAZY_BASE_URL, apiKey, ...tuning },
    fetch,
    simulated: true,
    close: async () => {
      if (started) await (await started).close();
    },
  };
}

type Fetch = typeof globalThis.fetch;

/** The base URL of the emulator's client before it runs; its fetch sends each request to the emulator's real address. */
const LAZY_BASE_URL = 'http://stepwise-emulator.invalid';

const urlOf = (input: Parameters<Fetch>[0]) => (typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
