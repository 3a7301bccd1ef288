/** `send <runId> <event>`: delivers an event to a waiting run and drives it on. */
import { findRun } from '../../query/run.js';
import { printRun, readJsonArg } from '../io.js';
import { withEngine, withStore, type CommonOptions } from '../context.js';
import { serverOptions } from '../run-options.js';

export type SendFlags = CommonOptions & { data?: string; step?: string };

export async function action(runId: string, event: string, opts: SendFlags, setExit: (code: number) => void): Promise<void> {
  const data = readJsonArg(opts.data, '--data');
  await withStore(opts.store, async (store) => {
    const record = await findRun(store, runId);
    await withEngine(store, serverOptions(opts, record.options), false, async (engine) => {
      setExit(printRun(await engine.send(record.id, event, data, opts.step !== undefined ? { step: opts.step } : {}), opts.json, opts.store));
    });
  });
}
