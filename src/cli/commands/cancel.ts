/** `cancel <runId>`: cancel a run (status cancelled, journaled). */
import type { Command } from 'commander';
import { findRun } from '../../query/run.js';
import { printRun } from '../io.js';
import { withEngine, withStore } from '../context.js';

export function registerCancelCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('cancel <runId>')
    .description('cancel a run (status cancelled, journaled)')
    .option('--store <spec>', 'store spec')
    .option('--json', 'print the run as JSON')
    .option('--reason <text>', 'why')
    .action(async (runId: string, opts: { store?: string; json?: boolean; reason?: string }) => {
      await withStore(opts.store, async (store) => {
        const { id } = await findRun(store, runId);
        await withEngine(store, null, true, async (engine) => {
          const view = await engine.cancel(id, opts.reason);
          printRun(view, opts.json, opts.store);
          setExit(0);
        });
      });
    });
}
