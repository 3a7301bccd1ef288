/**
 * `serve`: the HTTP API (src/server) over a store until SIGTERM/SIGINT. Auth
 * is always on: the token comes from `--token` or `STEPWISE_TOKEN`; without
 * one the server binds to loopback only, with a token it generates into
 * `.stepwise/serve-token` (mode 0600), and never prints.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createEngine } from '../../engine/engine.js';
import { StepwiseError } from '../../errors.js';
import { isLoopback } from '../../server/loopback.js';
import { EMULATOR_OPTION, log, withStore } from '../context.js';
import { parseIntArg } from '../io.js';
import { openModelServer } from '../model-server.js';

export const TOKEN_ENV = 'STEPWISE_TOKEN';

interface ServeOptions {
  port: string;
  host: string;
  store?: string;
  definitions: string;
  token?: string;
  emulator?: boolean;
  seed?: string;
  faults?: string;
  timeout?: string;
  maxRetries?: string;
}

/** The token of this server: the flag, else the environment, else (loopback only) a new one kept in a private file. */
function tokenFor(opts: ServeOptions): string {
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

export function registerServeCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('serve')
    .description('serve the HTTP API: start runs, send events, list, stream (bearer-token auth) until SIGTERM')
    .option('--port <n>', 'port (0 picks a free one)', '8080')
    .option('--host <host>', 'address to listen on; other than loopback needs a token', '127.0.0.1')
    .option('--store <spec>', 'memory | sqlite:<path> | postgres:<url> | postgres://… (default sqlite:.stepwise/stepwise.db)')
    .option('--definitions <dir>', 'where workflows are loaded by id', 'definitions')
    .option('--token <token>', `the API token (default ${TOKEN_ENV})`)
    .option(...EMULATOR_OPTION)
    .option('--seed <n>', 'emulator seed')
    .option('--faults <spec>', 'emulator faults')
    .option('--timeout <duration>', 'per-request model timeout, e.g. 30s')
    .option('--max-retries <n>', 'HTTP retries the SDK makes within one step attempt')
    .action(async (opts: ServeOptions) => {
      const port = parseIntArg(opts.port, '--port') ?? 8080;
      const token = tokenFor(opts);
      await withStore(opts.store, async (store) => {
        const model = await openModelServer({
          seed: parseIntArg(opts.seed, '--seed'),
          faults: opts.faults,
          timeout: opts.timeout,
          maxRetries: parseIntArg(opts.maxRetries, '--max-retries'),
          emulator: opts.emulator,
          // No configured model: the built-in emulator, said on stderr (the service contract starts with only --store and --token).
          log,
        });
        try {
          const engine = createEngine({ store, model: model.model });
          // Loaded here, so the other commands start without the HTTP stack.
          const { createServer } = await import('../../server/app.js');
          const server = await createServer(engine, { tokens: [{ token, label: 'api' }], definitions: opts.definitions, log }).listen({ port, host: opts.host });
          process.stdout.write(`stepwise serve listening on ${server.url}\n`);
          log(`stepwise serve: ${store.kind} store, definitions from ${opts.definitions}; SIGTERM or Ctrl-C stops`);
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
          await server.close();
          setExit(0);
        } finally {
          await model.close();
        }
      });
    });
}
