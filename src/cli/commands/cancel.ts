/** `cancel <runId>`: cancel a run (status cancelled, journaled). */
import type { Command } from 'commander';
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
      await withStore(opts.store, (store) =>
        withEngine(store, null, true, async (engine) => {
          const view = await engine.cancel(runId, opts.reason);
          printRun(view, opts.json);
          setExit(0);
        }),
      );
    });
}
