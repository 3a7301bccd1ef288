/** `prune`: deletes stopped runs (and their journals) last updated longer ago than a duration. */
import { createEngine } from '../../engine/engine.js';
import { StepwiseError } from '../../errors.js';
import { runStatuses as statuses, type RunStatus } from '../../run/types.js';
import { parseDuration } from '../../util/duration.js';
import { withStore } from '../context.js';

export interface PruneFlags {
  olderThan: string;
  status?: string[];
  store?: string;
  json?: boolean;
}

export async function action(opts: PruneFlags, setExit: (code: number) => void): Promise<void> {
  const olderThanMs = parseDuration(opts.olderThan);
  // Only runs that stopped may be pruned: a running or waiting run is still somebody's work.
  const prunable: readonly RunStatus[] = statuses.filter((s) => s !== 'running' && s !== 'waiting');
  const refused = (opts.status ?? []).filter((s) => !prunable.includes(s as RunStatus));
  if (refused.length) throw new StepwiseError('usage', `Cannot prune status ${refused.join(', ')}: prune removes stopped runs (${prunable.join(', ')}).`);
  await withStore(opts.store, async (store) => {
    const engine = createEngine({ store, model: { apiKey: 'unused' } });
    const pruned = await engine.prune({ olderThanMs, ...(opts.status ? { statuses: opts.status as RunStatus[] } : {}) });
    process.stdout.write(opts.json ? `${JSON.stringify({ pruned })}\n` : `pruned ${pruned} run${pruned === 1 ? '' : 's'}\n`);
    setExit(0);
  });
}
