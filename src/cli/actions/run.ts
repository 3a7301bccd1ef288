/** `run <file>`: starts a run of a definition and drives it until it waits, finishes or fails. */
import { loadDefinition } from '../../definition/load.js';
import { parseIntArg, printRun, readJsonArg } from '../io.js';
import { withEngine, withStore, type CommonOptions } from '../context.js';
import { serverOptions } from '../run-options.js';

export type RunFlags = CommonOptions & { input?: string; budget?: string; id?: string; detach?: boolean };

export async function action(file: string, opts: RunFlags, setExit: (code: number) => void): Promise<void> {
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
}
