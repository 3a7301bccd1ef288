/**
 * `inspect <file|runId>`: runs a definition (or continues a stored run) with
 * its actor connected to the Stately inspector, and prints the URL to open.
 */
import { existsSync } from 'node:fs';
import { loadDefinition } from '../../definition/load.js';
import { createEngine } from '../../engine/engine.js';
import { startInspector } from '../../observe/inspector.js';
import { findRun } from '../../query/run.js';
import { parseIntArg, printRun, readJsonArg } from '../io.js';
import { log, modelRequirement, progressPrinter, withStore } from '../context.js';
import { openModelServer } from '../model-server.js';

export interface InspectFlags {
  store?: string;
  port: string;
  input?: string;
  seed?: string;
  faults?: string;
  exit?: boolean;
  emulator?: boolean;
  json?: boolean;
}

export async function action(target: string, opts: InspectFlags, setExit: (code: number) => void): Promise<void> {
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
}
