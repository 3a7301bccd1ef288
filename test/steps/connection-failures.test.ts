/**
 * A model call that fails below HTTP (no connection, a reset, a redirect loop, a body cut short or not the gzip it
 * claims) keeps a message that names the model server (its origin only: no path, query or credentials) and the
 * cause, not the SDK's bare "Connection error." or undici's "terminated" (found by an outside tester). The real SDK
 * against real node:http servers; the failure as a run stores it.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createMemoryStore } from '../../src/store/memory.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  }).listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An origin nothing listens on: a port just let go. */
async function refusing(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const definition = loadDefinitionFromObject(
  {
    id: 'labels',
    retry: { maxAttempts: 1 },
    steps: {
      label: { analyze: { prompt: 'Label it.', schema: { type: 'object', properties: { label: { type: 'string' } } } }, next: 'done' },
      done: { final: true },
    },
  },
  [],
  'labels',
);

/** The failure message of a run whose one model call goes to `origin` under a path that must not be shown. */
async function failureAt(origin: string): Promise<string> {
  const engine = createEngine({ store: createMemoryStore(), clock: new ManualClock({ autoAdvance: true }), model: { baseURL: `${origin}/private-gateway-path`, apiKey: 'x', maxRetries: 0 } });
  const run = await engine.start(definition);
  expect(run).toMatchObject({ status: 'failed', failure: { kind: 'model_error', step: 'label' } });
  const message = run.failure!.message;
  expect(message).toContain(`model server ${origin}`);
  expect(message).not.toContain('private-gateway-path');
  return message;
}

describe('a model call that fails below HTTP', () => {
  it('no connection: names the server and ECONNREFUSED', async () => {
    const origin = await refusing();
    expect(await failureAt(origin)).toMatch(/^Connection error\. \(model server http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('a reset before the reply: names ECONNRESET', async () => {
    expect(await failureAt(await serve((req) => req.socket.resetAndDestroy()))).toMatch(/^Connection error\. \(model server .*ECONNRESET/);
  });

  it('a redirect loop: says the redirects were too many', async () => {
    const origin = await serve((_req, res) => res.writeHead(308, { location: '/private-gateway-path/v1/messages' }).end());
    expect(await failureAt(origin)).toMatch(/^Connection error\. \(model server .*redirect count exceeded/);
  });

  it('a body cut short: says the server closed the connection', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"id":"msg_1","type":"message"');
      setImmediate(() => res.socket?.destroy());
    });
    expect(await failureAt(origin)).toMatch(/^terminated \(model server .*other side closed.*UND_ERR_SOCKET/);
  });

  it('a body that is not the gzip it claims: says so', async () => {
    const origin = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end('{"id":"msg_1"}'));
    expect(await failureAt(origin)).toMatch(/^terminated \(model server .*incorrect header check.*Z_DATA_ERROR/);
  });
});
