/** `resume <runId>`: continue a run that stopped (budget exhausted, failed, crashed, due timers). */
import type { Command } from 'commander';
import { findRun } from '../../query/run.js';
import { parseIntArg, printRun } from '../io.js';
import { withEngine, withStore, type CommonOptions } from '../context.js';
import { runFlags, serverOptions } from '../run-options.js';

export function registerResumeCommand(program: Command, setExit: (code: number) => void): void {
  runFlags(program.command('resume <runId>').description('continue a run that stopped: budget exhausted, failed, crashed or with due timers'))
    .option('--budget <tokens>', 'new total token budget of the run')
    .action(async (runId: string, opts: CommonOptions & { budget?: string }) => {
      const budget = parseIntArg(opts.budget, '--budget');
      await withStore(opts.store, async (store) => {
        const record = await findRun(store, runId);
        await withEngine(store, serverOptions(opts, record.options), false, async (engine) => {
          setExit(printRun(await engine.resume(record.id, budget !== undefined ? { budget } : {}), opts.json, opts.store));
        });
      });
    });
}
