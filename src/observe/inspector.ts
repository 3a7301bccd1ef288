/**
 * The Stately inspector from Node: `@statelyai/inspect`'s relay server (an
 * HTTP page embedding stately.ai/inspect plus a WebSocket relay) and a
 * WebSocket inspector whose `inspect` observer is passed to every run's actor
 * (`createEngine({ inspect })`). The page needs a browser with internet; the
 * WebSocket protocol itself works offline, which is how it is tested.
 */
import { connect, createServer } from 'node:net';
import { createWebSocketInspector } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import type { InspectionEvent, Observer } from 'xstate';
import { StepwiseError } from '../errors.js';

export interface InspectorSession {
  /** The page to open in a browser. */
  readonly url: string;
  /** The relay's WebSocket address. */
  readonly wsUrl: string;
  /** Pass to `createEngine({ inspect })` or `createActor(machine, { inspect })`. */
  readonly inspect: Observer<InspectionEvent>;
  /** Waits until every inspection event so far has been handed to the relay. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

function listening(port: number, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`the inspector server did not start on port ${port}`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

/**
 * Fails with a message when `port` cannot be listened on. The relay server
 * reports a busy port as an unhandled 'error' event (a crash), so the port is
 * tried first, the same way the relay will listen on it.
 */
function checkPort(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'it is in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
      reject(new StepwiseError('usage', `The inspector cannot listen on port ${port}: ${why} (${error.code ?? 'error'}); choose another port with --port.`, { cause: error }));
    });
    probe.listen(port, () => probe.close(() => resolve()));
  });
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the relay server on `port` and connects a WebSocket inspector to it.
 *
 * @example
 * ```ts
 * const session = await startInspector({ port: 8080 });
 * const engine = createEngine({ store, inspect: session.inspect });
 * console.log(`open ${session.url}`);
 * ```
 */
export async function startInspector(options: { port?: number } = {}): Promise<InspectorSession> {
  const port = options.port ?? 8080;
  await checkPort(port);
  const server = createInspectorServer({ port, autoOpen: false });
  await listening(port, Date.now() + 5000);
  const wsUrl = `ws://127.0.0.1:${port}`;
  const inspector = createWebSocketInspector({ url: wsUrl });
  const socket = () => (inspector.adapter as unknown as { ws?: { readyState: number; bufferedAmount: number } }).ws;
  return {
    url: `http://localhost:${port}`,
    wsUrl,
    inspect: inspector.inspect as Observer<InspectionEvent>,
    async flush() {
      // Inspection events are converted on a timer, then sent once the socket is open.
      await tick(20);
      for (let i = 0; i < 250; i++) {
        const ws = socket();
        if (ws && ws.readyState === 1 && ws.bufferedAmount === 0) return;
        await tick(20);
      }
    },
    async stop() {
      inspector.stop();
      server.stop();
      await tick(10);
    },
  };
}
