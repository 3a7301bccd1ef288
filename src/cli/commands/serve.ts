/**
 * `serve`: the HTTP API (src/server) over a store until SIGTERM/SIGINT, with
 * bearer-token auth (see src/cli/actions/serve.ts).
 */
import type { Command } from 'commander';
import type { ServeFlags } from '../actions/serve.js';
import { modelServerFlags, TOKEN_ENV } from '../flags.js';

export function registerServeCommand(program: Command, setExit: (code: number) => void): void {
  modelServerFlags(
    program
      .command('serve')
      .description('serve the HTTP API: start runs, send events, list, stream (bearer-token auth) until SIGTERM')
      .option('--port <n>', 'port (0 picks a free one)', '8080')
      .option('--host <host>', 'address to listen on; other than loopback needs a token', '127.0.0.1')
      .option('--store <spec>', 'memory | sqlite:<path> | postgres:<url> | postgres://… (default sqlite:.stepwise/stepwise.db)')
      .option('--definitions <dir>', 'where workflows are loaded by id', 'definitions')
      .option('--token <token>', `the API token (default ${TOKEN_ENV})`),
  ).action(async (opts: ServeFlags) => (await import('../actions/serve.js')).action(opts, setExit));
}
