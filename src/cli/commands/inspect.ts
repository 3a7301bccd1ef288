/**
 * `inspect <file|runId>`: runs a definition (or continues a stored run) with
 * its actor connected to the Stately inspector, and prints the URL to open.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadDefinition } from '../../definition/load.js';
import { createEngine } from '../../engine/engine.js';
import { startInspector } from '../../observe/inspector.js';
import { findRun } from '../../query/run.js';
import { parseIntArg, printRun, readJsonArg } from '../io.js';
import { EMULATOR_OPTION, log, modelRequirement, progressPrinter, withStore } from '../context.js';
import { openModelServer } from '../model-server.js';

interface InspectOptions {
  store?: string;
  port: string;
  input?: string;
  seed?: string;
  faults?: string;
  exit?: boolean;
  emulator?: boolean;
  json?: boolean;
}

export function registerInspectCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('inspect <fileOrRunId>')
    .description('run a definition (or continue a stored run) live in the Stately inspector; prints the URL to open')
    .option('--store <spec>', 'store spec')
    .option('--port <n>', 'port of the inspector page and WebSocket relay', '8080')
    .option('--input <json|@file>', 'the run input (when starting a definition)')
    .option('--seed <n>', 'emulator seed')
    .option('--faults <spec>', 'emulator faults')
    .option('--exit', 'exit once the run comes to rest instead of serving the inspector until Ctrl-C')
    .option(...EMULATOR_OPTION)
    .option('--json', 'print the run as JSON')
    .action(async (target: string, opts: InspectOptions) => {
      const port = parseIntArg(opts.port, '--port') ?? 8080;
      const session = await startInspector({ port });
      log(`stepwise: Stately inspector at ${session.url} (open it in a browser; the page embeds stately.ai/inspect, so it needs internet)`);
      try {
        await withStore(opts.store, async (store) => {
          const isFile = existsSync(target);
          const stored = isFile ? null : await findRun(store, target);
          const seed = parseIntArg(opts.seed, '--seed') ?? stored?.options.seed;
          const faults = opts.faults ?? stored?.options.faults;
          const server = await openModelServer({ seed, faults, emulator: opts.emulator, requireModel: modelRequirement(opts.store), log });
          try {
            const engine = createEngine({ store, model: server.model, inspect: session.inspect });
            engine.subscribe(progressPrinter());
            const view = isFile
              ? await engine.start(await loadDefinition(target), {
                  input: readJsonArg(opts.input, '--input') ?? {},
                  ...(seed !== undefined ? { seed } : {}),
                  ...(faults ? { faults } : {}),
                })
              : await engine.resume(stored?.id ?? target);
            setExit(printRun(view, opts.json, opts.store));
          } finally {
            await server.close();
          }
        });
        await session.flush();
        if (!opts.exit) {
          log(`stepwise: serving the inspector at ${session.url}; press Ctrl-C to stop`);
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
        }
      } finally {
        await session.stop();
      }
    });
}
