/**
 * A bearer token (`ANTHROPIC_AUTH_TOKEN`, the SDK's `authToken`, as gateways and proxies take) is a credential like
 * the API key: it is sent as the SDK sends it, and hidden wherever the key is (found by an outside tester: with
 * ANTHROPIC_BASE_URL set the CLI sent `Bearer stepwise-no-key` instead, and a token a gateway echoed in an error was
 * stored verbatim). The real SDK against a real node:http server that records what it is sent.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { environmentHasModel, resolveModel } from '../../src/model/client.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { baseEnv, cli, lastJson, tempDir, tempStore } from '../cli/helpers.js';

/** A gateway token: no shape a credential pattern would know. */
const TOKEN = 'gw-0123456789abcdefXYZ';

/** What the server was sent: `authorization` and `x-api-key` of each request. */
const seen: Array<{ authorization: string | undefined; apiKey: string | undefined }> = [];
let echo = false;
let server: Server;
let baseURL: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, apiKey: req.headers['x-api-key'] as string | undefined });
      const body = JSON.parse(text) as { model: string; tools: Array<{ name: string }> };
      res.setHeader('content-type', 'application/json');
      if (echo) {
        const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        res.writeHead(500).end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: `token ${token} is not valid for upstream` } }));
        return;
      }
      res.end(
        JSON.stringify({
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model: body.model,
          content: [{ type: 'tool_use', id: 'toolu_1', name: body.tools[0]!.name, input: { label: 'ok' } }],
          stop_reason: 'tool_use',
          stop_sequence: null,
          usage: { input_tokens: 10, output_tokens: 5 },
        }),
      );
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  seen.length = 0;
  echo = false;
});

const workflow = {
  id: 'labels',
  retry: { maxAttempts: 1 },
  steps: {
    label: { analyze: { prompt: 'Label it.', schema: { type: 'object', required: ['label'], properties: { label: { type: 'string' } } } }, next: 'done' },
    done: { final: true, output: '{% $steps.label.output %}' },
  },
};
const definition = () => loadDefinitionFromObject(workflow, [], 'labels');

describe('ANTHROPIC_AUTH_TOKEN and authToken', () => {
  it('the CLI with ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN sends the token, not a placeholder key', { timeout: SPAWN_BUDGET_MS }, async () => {
    const file = join(tempDir(), 'labels.yaml');
    writeFileSync(file, JSON.stringify(workflow));
    const result = await cli(['run', file, '--input', '{}', ...tempStore(), '--max-retries', '0', '--json'], baseEnv({ ANTHROPIC_BASE_URL: baseURL, ANTHROPIC_AUTH_TOKEN: TOKEN }));
    expect(lastJson(result.stdout)).toMatchObject({ status: 'done', output: { label: 'ok' } });
    expect(seen).toEqual([{ authorization: `Bearer ${TOKEN}`, apiKey: undefined }]);
  });

  it('the environment names a model with ANTHROPIC_AUTH_TOKEN alone, and resolveModel reads it as the SDK does (the API key first)', () => {
    expect(environmentHasModel({ ANTHROPIC_AUTH_TOKEN: TOKEN })).toBe(true);
    expect(resolveModel({}, { ANTHROPIC_AUTH_TOKEN: TOKEN }).client).toMatchObject({ authToken: TOKEN, apiKey: null });
    expect(resolveModel({ baseURL }, { ANTHROPIC_AUTH_TOKEN: TOKEN }).client).toMatchObject({ authToken: TOKEN, apiKey: null });
    expect(resolveModel({ baseURL }, { ANTHROPIC_AUTH_TOKEN: TOKEN, ANTHROPIC_API_KEY: 'sk-key' }).client).toMatchObject({ authToken: null, apiKey: 'sk-key' });
    expect(resolveModel({ baseURL, apiKey: 'given' }, { ANTHROPIC_AUTH_TOKEN: TOKEN }).client).toMatchObject({ authToken: null, apiKey: 'given' });
    expect(() => resolveModel({ baseURL, apiKey: 'given', authToken: TOKEN })).toThrow(/both apiKey and authToken/);
  });

  it('an engine given authToken sends it', async () => {
    const engine = createEngine({ store: createMemoryStore(), clock: new ManualClock({ autoAdvance: true }), model: { baseURL, authToken: TOKEN, maxRetries: 0 } });
    expect(await engine.start(definition())).toMatchObject({ status: 'done' });
    expect(seen).toEqual([{ authorization: `Bearer ${TOKEN}`, apiKey: undefined }]);
  });

  for (const [name, model] of [
    ['a client built with authToken', () => ({ client: new Anthropic({ baseURL, authToken: TOKEN, maxRetries: 0 }) })],
    ['the authToken option', () => ({ baseURL, authToken: TOKEN, maxRetries: 0 })],
  ] as const) {
    it(`${name}: a token the server echoes in an error is hidden in the failure, the journal and the store`, async () => {
      echo = true;
      const store = createMemoryStore();
      const engine = createEngine({ store, clock: new ManualClock({ autoAdvance: true }), model: model() });
      const run = await engine.start(definition());
      expect(run).toMatchObject({ status: 'failed', failure: { kind: 'model_error' } });
      expect(run.failure?.message).toContain('token *** is not valid for upstream');
      const kept = JSON.stringify([run, await engine.journal(run.runId), await store.get(run.runId)]);
      expect(kept).not.toContain(TOKEN);
    });
  }
});
