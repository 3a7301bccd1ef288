/**
 * Embedding the HTTP API, as the README's "Service" section shows: an engine,
 * `createServer(engine, { tokens })` on a free loopback port, then a client
 * that starts the invoice workflow and approves it over HTTP. Run it with
 * `npx tsx examples/service/embed.ts` (it starts the built-in emulator, so no
 * API key is needed).
 */
import { readFileSync } from 'node:fs';
import { createEngine, openStore } from '../../src/index.js';
import { createServer } from '../../src/server/index.js';
import { startEmulator } from '../../src/testing.js';

export async function approveOverHttp(storeSpec: string, token: string): Promise<{ started: { status: string; runId: string }; approved: { status: string; output: unknown } }> {
  const emulator = await startEmulator({ seed: 1 });
  const store = await openStore(storeSpec);
  const engine = createEngine({ store, model: { baseURL: emulator.url, apiKey: 'emulator' } });
  const definitions = new URL('../../definitions', import.meta.url).pathname;
  const server = await createServer(engine, { tokens: [{ token, label: 'example' }], definitions }).listen({ port: 0 });
  try {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const input = JSON.parse(readFileSync(new URL('../../definitions/invoice-approval.input.json', import.meta.url), 'utf8')) as unknown;
    const started = (await (await fetch(`${server.url}/api/runs`, { method: 'POST', headers, body: JSON.stringify({ workflow: 'invoice-approval', input }) })).json()) as {
      status: string;
      runId: string;
    };
    const approved = (await (
      await fetch(`${server.url}/api/runs/${started.runId}/events`, { method: 'POST', headers, body: JSON.stringify({ type: 'APPROVE', data: { by: 'cfo@example.com' } }) })
    ).json()) as { status: string; output: unknown };
    return { started, approved };
  } finally {
    await server.close();
    await store.close();
    await emulator.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { started, approved } = await approveOverHttp('memory', 'example-token');
  process.stdout.write(`started: ${started.status}\napproved: ${approved.status} ${JSON.stringify(approved.output)}\n`);
}
