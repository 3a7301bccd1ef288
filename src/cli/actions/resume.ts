/** `resume <runId>`: continues a run that stopped and drives it on. */
import { findRun } from '../../query/run.js';
import { StepwiseError } from '../../errors.js';
import { cancelledResumeMessage, parseIntArg, printRun } from '../io.js';
import { withEngine, withStore, type CommonOptions } from '../context.js';
import { serverOptions } from '../run-options.js';

export type ResumeFlags = CommonOptions & { budget?: string };

export async function action(runId: string, opts: ResumeFlags, setExit: (code: number) => void): Promise<void> {
  const budget = parseIntArg(opts.budget, '--budget');
  await withStore(opts.store, async (store) => {
    const record = await findRun(store, runId);
    if (record.status === 'cancelled') throw new StepwiseError('usage', cancelledResumeMessage(record.id, record.failure?.step ?? null, opts.store));
    await withEngine(store, serverOptions(opts, record.options), false, async (engine) => {
      setExit(printRun(await engine.resume(record.id, budget !== undefined ? { budget } : {}), opts.json, opts.store));
    });
  });
}
