/** `rerun <runId> --from <step>`: a new run that keeps the outputs of the steps before `<step>`. */
import { loadDefinition } from '../../definition/load.js';
import { createEngine } from '../../engine/engine.js';
import { rerun } from '../../engine/rerun.js';
import { findRun } from '../../query/run.js';
import { parseIntArg, printRun } from '../io.js';
import { log, modelRequirement, progressPrinter, withStore } from '../context.js';
import { openModelServer } from '../model-server.js';

export interface RerunFlags {
  from: string;
  definition?: string;
  store?: string;
  seed?: string;
  faults?: string;
  replay?: string;
  json?: boolean;
  emulator?: boolean;
}

export async function action(runId: string, opts: RerunFlags, setExit: (code: number) => void): Promise<void> {
  const definition = opts.definition ? await loadDefinition(opts.definition) : undefined;
  await withStore(opts.store, async (store) => {
    const record = await findRun(store, runId);
    const server = await openModelServer({
      seed: parseIntArg(opts.seed, '--seed') ?? record.options.seed,
      faults: opts.faults ?? record.options.faults,
      replay: opts.replay,
      emulator: opts.emulator,
      requireModel: modelRequirement(opts.store),
      log,
    });
    try {
      const engine = createEngine({ store, model: server.model });
      engine.subscribe(progressPrinter());
      const view = await rerun(engine, record.id, opts.from, definition ? { definition } : {});
      setExit(printRun(view, opts.json, opts.store));
    } finally {
      await server.close();
    }
  });
}
