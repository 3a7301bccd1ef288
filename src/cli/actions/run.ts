/** `run <file>`: starts a run of a definition and drives it until it waits, finishes or fails. */
import { loadDefinition } from '../../definition/load.js';
import type { Engine } from '../../engine/engine.js';
import type { RunView } from '../../engine/view.js';
import { RunIdTakenError, StepwiseError } from '../../errors.js';
import { parseIntArg, printRun, readJsonArg } from '../io.js';
import { log, withEngine, withStore, type CommonOptions } from '../context.js';
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
      const view = await engine
        .start(definition, {
          input: input ?? {},
          ...(opts.id ? { runId: opts.id, existing: 'refuse' as const } : {}),
          ...(budget !== undefined ? { budget } : {}),
          ...(seed !== undefined ? { seed } : {}),
          ...(opts.faults ? { faults: opts.faults } : {}),
          ...(opts.detach ? { detach: true } : {}),
        })
        .catch((error: unknown) => existingRun(engine, error));
      setExit(printRun(view, opts.json, opts.store));
    }),
  );
}

/**
 * `--id` taken (decided by the store's create, so also when another process made the run meanwhile): a run of the
 * same workflow is printed as it is, saying so; one of another workflow is an error that changes nothing.
 */
async function existingRun(engine: Engine, error: unknown): Promise<RunView> {
  if (!(error instanceof RunIdTakenError)) throw error;
  if (!error.sameWorkflow) {
    throw new StepwiseError(
      'run_exists',
      `the run id "${error.runId}" is taken by a run of ${error.workflow}, not of ${error.requested}: nothing was started or changed. Use another --id, or none for a new run.`,
    );
  }
  const view = await engine.get(error.runId);
  log(`stepwise: the run "${error.runId}" existed already (created ${new Date(view.createdAt).toISOString()}): shown as it is; the --input and the definition given now were not used`);
  return view;
}
