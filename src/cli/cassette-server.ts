/**
 * `--record <file>` and `--replay <file>`: the model server of a CLI command
 * with its replies recorded to a cassette, or answered from one with no model
 * server at all.
 */
import Anthropic from '@anthropic-ai/sdk';
import { StepwiseError } from '../errors.js';
import { readCassette, recordingFetch, replayingFetch } from '../observe/cassette.js';
import type { ModelServer } from './model-server-type.js';

export function replayServer(file: string, log: (line: string) => void, maxRetries = 0): ModelServer {
  let cassette;
  try {
    cassette = readCassette(file);
  } catch (error) {
    throw new StepwiseError('usage', `--replay: cannot read ${file}: ${(error as Error).message}`);
  }
  const player = replayingFetch(cassette);
  log(`stepwise: replaying model replies from ${file} (${cassette.interactions.length} recorded); no model server is used`);
  const client = new Anthropic({ baseURL: 'http://cassette.invalid', apiKey: 'cassette', fetch: player.fetch, maxRetries });
  return {
    model: { client, maxRetries },
    simulated: false,
    close: async () => {
      const { exact, byTool, missing } = player.stats;
      log(`stepwise: replay answered ${exact} requests exactly, ${byTool} by tool name, ${missing} missing`);
    },
  };
}

export function recordingServer(server: ModelServer, file: string, log: (line: string) => void): ModelServer {
  const recorder = recordingFetch(server.fetch);
  const { baseURL, apiKey, timeoutMs, maxRetries } = server.model;
  const client = new Anthropic({
    ...(baseURL ? { baseURL } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
    ...(maxRetries !== undefined ? { maxRetries } : {}),
    fetch: recorder.fetch,
  });
  return {
    model: { ...server.model, client },
    simulated: server.simulated,
    close: async () => {
      recorder.save(file);
      log(`stepwise: recorded ${recorder.interactions.length} model replies to ${file}`);
      await server.close();
    },
  };
}
