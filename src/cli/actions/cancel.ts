/** `cancel <runId>`: cancel a run (status cancelled, journaled). */
import { findRun } from '../../query/run.js';
import { printRun } from '../io.js';
import { withEngine, withStore } from '../context.js';

export interface CancelFlags {
  store?: string;
  json?: boolean;
  reason?: string;
}

export async function action(runId: string, opts: CancelFlags, setExit: (code: number) => void): Promise<void> {
  await withStore(opts.store, async (store) => {
    const { id } = await findRun(store, runId);
    await withEngine(store, null, true, async (engine) => {
      const view = await engine.cancel(id, opts.reason);
      printRun(view, opts.json, opts.store);
      setExit(0);
    });
  });
}
