/** `redrive <runId>`: a run that failed in a map step runs its failed items again (keeping the others) and goes on. */
import { findRun } from '../../query/run.js';
import { printRun } from '../io.js';
import { withEngine, withStore, type CommonOptions } from '../context.js';
import { serverOptions } from '../run-options.js';

export async function action(runId: string, opts: CommonOptions, setExit: (code: number) => void): Promise<void> {
  await withStore(opts.store, async (store) => {
    const record = await findRun(store, runId);
    await withEngine(store, serverOptions(opts, record.options), false, async (engine) => {
      setExit(printRun(await engine.redrive(record.id), opts.json, opts.store));
    });
  });
}
