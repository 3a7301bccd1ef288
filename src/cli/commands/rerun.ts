/** `rerun <runId> --from <step>`: a new run that keeps the outputs of the steps before `<step>`. */
import type { Command } from 'commander';
import { loadDefinition } from '../../definition/load.js';
import { createEngine } from '../../engine/engine.js';
import { rerun } from '../../engine/rerun.js';
import { findRun } from '../../query/run.js';
import { parseIntArg, printRun } from '../io.js';
import { EMULATOR_OPTION, log, modelRequirement, progressPrinter, withStore } from '../context.js';
import { openModelServer } from '../model-server.js';

export function registerRerunCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('rerun <runId>')
    .description('rerun a finished or failed run from a step as a new run, keeping the outputs of the steps before it')
    .requiredOption('--from <step>', 'the first step to run again')
    .option('--definition <file>', 'run on this (changed) definition instead of the one the run started with')
    .option('--store <spec>', 'store spec')
    .option('--seed <n>', 'emulator seed (default: the run\'s own)')
    .option('--faults <spec>', 'emulator faults (default: the run\'s own)')
    .option('--replay <file>', 'answer model requests from a cassette file')
    .option('--json', 'print the new run as JSON')
    .option(...EMULATOR_OPTION)
    .action(async (runId: string, opts: { from: string; definition?: string; store?: string; seed?: string; faults?: string; replay?: string; json?: boolean; emulator?: boolean }) => {
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
    });
}
