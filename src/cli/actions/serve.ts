/**
 * `serve`: the HTTP API (src/server) over a store until SIGTERM/SIGINT. Auth
 * is always on: the token comes from `--token` or `STEPWISE_TOKEN`; without
 * one the server binds to loopback only, with a token it generates into
 * `.stepwise/serve-token` (mode 0600), and never prints.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../../engine/engine.js';
import { StepwiseError } from '../../errors.js';
import { createServer } from '../../server/app.js';
import { isLoopback } from '../../server/loopback.js';
import { log, withStore, type CommonOptions } from '../context.js';
import { TOKEN_ENV } from '../flags.js';
import { parseIntArg } from '../io.js';
import { openModelServer } from '../model-server.js';
import { serverOptions } from '../run-options.js';

export interface ServeFlags extends CommonOptions {
  port: string;
  host: string;
  definitions: string;
  token?: string;
}

/** The token of this server: the flag, else the environment, else (loopback only) a new one kept in a private file. */
function tokenFor(opts: ServeFlags): string {
  const given = opts.token ?? process.env[TOKEN_ENV];
  if (given !== undefined && given.trim() !== '') return given.trim();
  if (!isLoopback(opts.host)) {
    throw new StepwiseError('usage', `refusing to listen on ${opts.host} without a token: give --token <t> or set ${TOKEN_ENV}`);
  }
  const token = randomBytes(24).toString('base64url');
  mkdirSync('.stepwise', { recursive: true });
  const file = join('.stepwise', 'serve-token');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  log(`stepwise serve: no --token or ${TOKEN_ENV}; a token for this session is in ${file} (readable by you only)`);
  return token;
}

export async function action(opts: ServeFlags, setExit: (code: number) => void): Promise<void> {
  const port = parseIntArg(opts.port, '--port') ?? 8080;
  const token = tokenFor(opts);
  await withStore(opts.store, async (store) => {
    // No configured model: the built-in emulator, said on stderr (the service contract starts with only --store and --token).
    const model = await openModelServer({ ...serverOptions(opts), requireModel: undefined, log });
    try {
      // SIGTERM drains as a worker does: each drive in flight stops at its next step boundary (the runs stay
      // `running`, for a worker or a resume), so shutdown is bounded by the steps in flight, not by whole runs.
      const draining = new AbortController();
      const engine = createEngine({ store, model: model.model, stop: draining.signal });
      const server = await createServer(engine, { tokens: [{ token, label: 'api' }], definitions: opts.definitions, log }).listen({ port, host: opts.host });
      process.stdout.write(`stepwise serve listening on ${server.url}\n`);
      log(`stepwise serve: ${store.kind} store, definitions from ${opts.definitions}; SIGTERM or Ctrl-C stops`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      draining.abort();
      await server.close();
      setExit(0);
    } finally {
      await model.close();
    }
  });
}
