/** `stats`: summarises a store: completion rate, tokens and cost per run, failures by kind. */
import type { RunStatus } from '../../run/types.js';
import { renderStats } from '../../observe/stats.js';
import { runStats } from '../../query/stats.js';
import { parseIntArg } from '../io.js';
import { withStore } from '../context.js';

export interface StatsFlags {
  store?: string;
  workflow?: string;
  status?: string[];
  limit: string;
  json?: boolean;
}

export async function action(opts: StatsFlags): Promise<void> {
  await withStore(opts.store, async (store) => {
    const stats = await runStats(store, {
      ...(opts.workflow ? { workflow: opts.workflow } : {}),
      ...(opts.status ? { status: opts.status as RunStatus[] } : {}),
      limit: parseIntArg(opts.limit, '--limit') ?? 10000,
    });
    process.stdout.write(opts.json ? `${JSON.stringify(stats)}\n` : `${renderStats(stats).join('\n')}\n`);
  });
}
