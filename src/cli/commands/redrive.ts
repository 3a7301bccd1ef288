/** `redrive <runId>`: a run that failed in a map step runs its failed items again (keeping the others) and goes on. */
import type { Command } from 'commander';
import { findRun } from '../../query/run.js';
import { printRun } from '../io.js';
import { withEngine, withStore, type CommonOptions } from '../context.js';
import { runFlags } from '../flags.js';
import { serverOptions } from '../run-options.js';

export function registerRedriveCommand(program: Command, setExit: (code: number) => void): void {
  runFlags(program.command('redrive <runId>').description('re-run only the failed items of a failed map step, keep the outputs of the others, and continue the run')).action(
    async (runId: string, opts: CommonOptions) => {
      await withStore(opts.store, async (store) => {
        const record = await findRun(store, runId);
        await withEngine(store, serverOptions(opts, record.options), false, async (engine) => {
          setExit(printRun(await engine.redrive(record.id), opts.json, opts.store));
        });
      });
    },
  );
}
