/** `run`, `resume`, `send`, `cancel`: commands that start or move a run. */
import type { Command } from 'commander';
import { loadDefinition } from '../../definition/load.js';
import { RunNotFoundError } from '../../errors.js';
import type { RunView } from '../../engine/view.js';
import { describeRun, exitCodeFor, parseIntArg, readJsonArg, runJson } from '../io.js';
import { EMULATOR_OPTION, modelRequirement, withEngine, withStore, type CommonOptions } from '../context.js';

function print(view: RunView, json: boolean | undefined): number {
  if (json) process.stdout.write(`${JSON.stringify(runJson(view))}\n`);
  else process.stdout.write(`${describeRun(view)}\n`);
  return exitCodeFor(view.status);
}

const serverOptions = (opts: CommonOptions, stored?: { seed?: number; faults?: string }) => ({
  seed: parseIntArg(opts.seed, '--seed') ?? stored?.seed,
  faults: opts.faults ?? stored?.faults,
  timeout: opts.timeout,
  maxRetries: parseIntArg(opts.maxRetries, '--max-retries'),
  record: opts.record,
  replay: opts.replay,
  emulator: opts.emulator,
  requireModel: modelRequirement(opts.store),
});

function common(command: Command): Command {
  return command
    .option('--store <spec>', 'memory | sqlite:<path> | postgres:<url> | postgres://… (default sqlite:.stepwise/stepwise.db)')
    .option('--json', 'print the run as one JSON object on the last stdout line')
    .option('--seed <n>', 'emulator seed (default 1, or the run\'s own)')
    .option('--faults <spec>', 'emulator faults: a profile (none, flaky, hostile) or name=value,…')
    .option('--timeout <duration>', 'per-request model timeout, e.g. 30s')
    .option('--max-retries <n>', 'HTTP retries the SDK makes within one step attempt (default 2)')
    .option('--record <file>', 'record the model replies to a cassette file (appends)')
    .option('--replay <file>', 'answer model requests from a cassette file; no model server')
    .option(...EMULATOR_OPTION);
}

export function registerRunCommands(program: Command, setExit: (code: number) => void): void {
  common(program.command('run <file>').description('start a run of a definition and drive it until it waits, finishes or fails'))
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
          setExit(print(view, opts.json));
        }),
      );
    });

  common(program.command('resume <runId>').description('continue a run that stopped: budget exhausted, failed, crashed or with due timers'))
    .option('--budget <tokens>', 'new total token budget of the run')
    .action(async (runId: string, opts: CommonOptions & { budget?: string }) => {
      const budget = parseIntArg(opts.budget, '--budget');
      await withStore(opts.store, async (store) => {
        const record = await store.get(runId);
        if (!record) throw new RunNotFoundError(runId);
        await withEngine(store, serverOptions(opts, record.options), false, async (engine) => {
          setExit(print(await engine.resume(runId, budget !== undefined ? { budget } : {}), opts.json));
        });
      });
    });

  common(program.command('send <runId> <event>').description('deliver an event (e.g. APPROVE) to a waiting run'))
    .option('--data <json|@file>', 'data carried by the event ($event.data)')
    .action(async (runId: string, event: string, opts: CommonOptions & { data?: string }) => {
      const data = readJsonArg(opts.data, '--data');
      await withStore(opts.store, async (store) => {
        const record = await store.get(runId);
        if (!record) throw new RunNotFoundError(runId);
        await withEngine(store, serverOptions(opts, record.options), false, async (engine) => {
          setExit(print(await engine.send(runId, event, data), opts.json));
        });
      });
    });

  program
    .command('cancel <runId>')
    .description('cancel a run (status cancelled, journaled)')
    .option('--store <spec>', 'store spec')
    .option('--json', 'print the run as JSON')
    .option('--reason <text>', 'why')
    .action(async (runId: string, opts: { store?: string; json?: boolean; reason?: string }) => {
      await withStore(opts.store, (store) =>
        withEngine(store, null, true, async (engine) => {
          const view = await engine.cancel(runId, opts.reason);
          print(view, opts.json);
          setExit(0);
        }),
      );
    });
}
