import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SPAWN_BUDGET_MS, waitFor } from '../budgets.js';
import { invoice, start, tempStore } from './cli.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Connects once the `inspect` process listens: it may take a while to start on a loaded machine. */
async function connect(url: string): Promise<WebSocket> {
  let ws: WebSocket | null = null;
  await waitFor(async () => {
    const attempt = new WebSocket(url);
    const ok = await new Promise<boolean>((resolve) => {
      attempt.once('open', () => resolve(true));
      attempt.once('error', () => resolve(false));
    });
    if (ok) ws = attempt;
    return ok;
  }, `the inspector at ${url}`);
  return ws!;
}

interface Message {
  type: string;
  name?: string;
  definition?: string;
  event?: { type: string };
  snapshot?: { value?: unknown; status?: string };
}

describe('stepwise inspect', { timeout: SPAWN_BUDGET_MS }, () => {
  it('relays the run to a WebSocket client of the inspector protocol, with the definition’s own state names', async () => {
    const port = await freePort();
    const child = start(['inspect', ...invoice, '--store', tempStore(), '--emulator', '--port', String(port)]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const ws = await connect(`ws://127.0.0.1:${port}`);
      const messages: Message[] = [];
      await new Promise<void>((resolve) => {
        ws.on('message', (data) => {
          const message = JSON.parse(data.toString()) as Message;
          messages.push(message);
          if (message.type === '@xstate.snapshot' && message.snapshot?.value === 'cfo_approval') resolve();
        });
      });
      ws.close();

      const actor = messages.find((m) => m.type === '@xstate.actor')!;
      expect(actor.name).toBe('wf');
      const definition = JSON.parse(actor.definition!) as { states: Record<string, unknown> };
      expect(Object.keys(definition.states)).toEqual(expect.arrayContaining(['extract', 'validate', 'route', 'cfo_approval', 'pay', 'done']));
      const events = messages.filter((m) => m.type === '@xstate.event').map((m) => m.event!.type);
      expect(events).toEqual(expect.arrayContaining(['step.run', 'step.done', 'choice.take']));
      const values = messages.filter((m) => m.type === '@xstate.snapshot').map((m) => JSON.stringify(m.snapshot!.value));
      expect(values).toContain(JSON.stringify({ extract: 'running' }));
      expect(stderr).toContain(`Stately inspector at http://localhost:${port}`);
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('close', r));
    }
  });
});
