/** `run <file>`: start a run of a definition and drive it until it waits, finishes or fails. */
import type { Command } from 'commander';
import { loadDefinition } from '../../definition/load.js';
import { parseIntArg, printRun, readJsonArg } from '../io.js';
import { withEngine, withStore, type CommonOptions } from '../context.js';
import { runFlags, serverOptions } from '../run-options.js';

export function registerRunCommand(program: Command, setExit: (code: number) => void): void {
  runFlags(program.command('run <file>').description('start a run of a definition and drive it until it waits, finishes or fails'))
    .option('--input <json|@file>', 'the run input')
    .option('--budget <tokens>', 'total token budget of the run')
    .option('--id <runId>', 'run id to use; starting the same id again returns the existing run')
    .option('--detach', 'only enqueue the run, for workers to drive')
    .action(async (file: string, opts: CommonOptions & { input?: string; budget?: string; id?: string; detach?: boolean }) => {
      const definition = await loadDefinition(file);
      const input = readJsonArg(opts.input, '--input');
      const budget = parseIntArg(opts.budget, '--budget');
      const seed = parseIntArg(opts.seed, '--seed');
      await withStore(opts.store, (store) =>
        // A detached run is only enqueued: no model call, so no model server.
        withEngine(store, opts.detach ? null : serverOptions(opts), Boolean(opts.detach), async (engine) => {
          const view = await engine.start(definition, {
            input: input ?? {},
            ...(opts.id ? { runId: opts.id } : {}),
            ...(budget !== undefined ? { budget } : {}),
            ...(seed !== undefined ? { seed } : {}),
            ...(opts.faults ? { faults: opts.faults } : {}),
            ...(opts.detach ? { detach: true } : {}),
          });
          setExit(printRun(view, opts.json, opts.store));
        }),
      );
    });
}
