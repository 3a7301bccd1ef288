/** A real API server for the tests: SQLite file store, the emulator as the model, an ephemeral port on 127.0.0.1. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { createServer, type ServerOptions } from '../../src/server/app.js';
import type { ListeningServer } from '../../src/server/listen.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

export const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const TOKEN = 'tok-9f8e7d6c5b4a-secret';
export const invoiceInput = (): unknown => JSON.parse(readFileSync(join(root, 'definitions', 'invoice-approval.input.json'), 'utf8'));

export interface Api {
  readonly url: string;
  readonly engine: Engine;
  readonly store: Store;
  /** Every line the server logged. */
  readonly logs: string[];
  /** A request with the bearer token (unless `token` is given, or null for none). */
  call(method: string, path: string, body?: unknown, options?: { token?: string | null; raw?: string; headers?: Record<string, string> }): Promise<{ status: number; json: any; text: string }>;
  close(): Promise<void>;
}

/**
 * @param wrap Wraps the engine the server is given.
 * @param makeStore The store (default: a SQLite file in a fresh directory); it is closed with the server.
 */
export async function startApi(
  options: Partial<ServerOptions> = {},
  wrap: (engine: Engine) => Engine = (e) => e,
  makeStore: (dir: string) => Store = (dir) => createSqliteStore({ path: join(dir, 'runs.db') }),
): Promise<Api> {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-server-'));
  const emu: Emulator = await startEmulator({ seed: 1 });
  const store = makeStore(dir);
  const engine = wrap(createEngine({
    store,
    model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS },
    clock: new ManualClock({ autoAdvance: true }),
  }));
  const logs: string[] = [];
  const server: ListeningServer = await createServer(engine, {
    tokens: [{ token: TOKEN, label: 'ops-team' }],
    definitions: join(root, 'definitions'),
    log: (line) => logs.push(line),
    ...options,
  }).listen({ port: 0, host: '127.0.0.1' });
  return {
    url: server.url,
    engine,
    store,
    logs,
    async call(method, path, body, o = {}) {
      const token = o.token === undefined ? TOKEN : o.token;
      const headers: Record<string, string> = { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...o.headers };
      const payload = o.raw ?? (body !== undefined ? JSON.stringify(body) : undefined);
      if (payload !== undefined && !('content-type' in headers)) headers['content-type'] = 'application/json';
      const res = await fetch(`${server.url}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      return { status: res.status, json, text };
    },
    async close() {
      await server.close();
      await store.close();
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
