/**
 * Cassettes are files made to be shared: a model server that echoes the API key (or any credential) into an error or
 * a reply must not put it in one. The real SDK against a real HTTP server that echoes the key it is sent; the
 * CLI's `--record` end to end, then `--replay` of what was written.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCassette, recordingFetch, replayingFetch } from '../../src/observe/cassette.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { baseEnv, cli, example, lastJson, tempStore } from '../cli/helpers.js';

const KEY = 'sk-ant-secret-XYZ';
/** Shaped like a credential, though nobody configured it. */
const BEARER = 'Bearer abcdefghijklmnop1234';

/** Answers `/v1/messages`: a reply whose text echoes the key and a bearer token when the prompt says `reply`, else a 401 that echoes the key. */
function echoingServer(): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      // The SDK sends the key as `x-api-key` or as `Authorization: Bearer <key>`, depending on its version.
      const key = String(req.headers['x-api-key'] ?? req.headers['authorization']?.replace(/^Bearer /, ''));
      res.setHeader('content-type', 'application/json');
      if (body.includes('"reply"')) {
        res.end(
          JSON.stringify({
            id: 'msg_echo',
            type: 'message',
            role: 'assistant',
            model: 'claude-sonnet-4-5',
            content: [{ type: 'text', text: `your key is ${key}; use Authorization: ${BEARER}` }],
            stop_reason: 'end_turn',
            stop_sequence: null,
            usage: { input_tokens: 5, output_tokens: 7 },
          }),
        );
        return;
      }
      res.statusCode = 401;
      res.end(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `bad key ${key} for org; header was ${key}` } }));
    });
  });
}

let server: Server;
let baseURL: string;
beforeAll(async () => {
  server = echoingServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-cassette-secrets-'));
const ask = (client: Anthropic, text: string) =>
  client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: text }] });

describe('a cassette never holds the API key or a credential', () => {
  it('recordingFetch hides the configured key and credential-shaped text in replies and errors; replay answers with them hidden', async () => {
    const recorder = recordingFetch();
    const client = new Anthropic({ baseURL, apiKey: KEY, maxRetries: 0, fetch: recorder.fetch });
    const reply = await ask(client, 'reply');
    // The caller still gets what the server said; only the cassette leaves it out.
    expect(JSON.stringify(reply.content)).toContain(KEY);
    await expect(ask(client, 'fail')).rejects.toThrow(KEY);

    const file = path.join(dir, 'sdk.json');
    recorder.save(file);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(KEY);
    expect(text).not.toContain('abcdefghijklmnop1234');
    expect(JSON.stringify(recorder.interactions)).not.toContain(KEY);
    expect(readCassette(file).interactions.map((i) => i.status)).toEqual([200, 401]);
    expect(text).toContain('bad key *** for org; header was ***');

    const player = replayingFetch(readCassette(file));
    const replay = new Anthropic({ baseURL: 'http://cassette.invalid', apiKey: 'cassette', maxRetries: 0, fetch: player.fetch });
    const replayed = await ask(replay, 'reply');
    expect(replayed.content).toEqual([{ type: 'text', text: 'your key is ***; use Authorization: ***' }]);
    expect(replayed.usage).toMatchObject({ input_tokens: 5, output_tokens: 7 });
    await expect(ask(replay, 'fail')).rejects.toMatchObject({ status: 401, message: expect.stringContaining('bad key *** for org') });
    expect(player.stats).toEqual({ exact: 2, byTool: 0, missing: 0 });
  });

  it('stepwise run --record against a server that echoes ANTHROPIC_API_KEY writes no key; --replay fails the run the same way', { timeout: SPAWN_BUDGET_MS }, async () => {
    const cassette = path.join(dir, 'cli.json');
    const env = baseEnv({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: baseURL });
    const recorded = await cli(['run', ...example('invoice-approval.yaml'), '--store', tempStore()[1]!, '--max-retries', '0', '--record', cassette, '--json'], env);
    expect(recorded.code).toBe(1);
    expect(recorded.stderr).toMatch(/recorded 1 model replies/);
    const original = lastJson(recorded.stdout);
    expect(original.failure).toMatchObject({ kind: 'auth_error' });
    expect(recorded.stdout).not.toContain(KEY);
    const written = readFileSync(cassette, 'utf8');
    expect(written).not.toContain(KEY);
    expect(written).toContain('bad key *** for org; header was ***');

    const replayed = await cli(['run', ...example('invoice-approval.yaml'), '--store', tempStore()[1]!, '--replay', cassette, '--json']);
    expect(replayed.code).toBe(1);
    expect(lastJson(replayed.stdout).failure).toEqual(original.failure);
  });
});
