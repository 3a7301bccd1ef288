/**
 * What a set of runs spent together, each token once. A run's usage includes
 * what its child runs (a map's items, sub-workflows) spent, at any depth, so a
 * run below another run of the set adds nothing of its own; a child run whose
 * ancestors are not in the set (a listing filtered by workflow or status)
 * adds its own usage.
 */
import { addUsage, zeroUsage, type RunRecord, type Usage } from '../run/types.js';
import type { RunReader } from './reader.js';

type Counted = Pick<RunRecord, 'id' | 'usage' | 'options'>;

export async function usageCountedOnce(reader: Pick<RunReader, 'get'>, runs: readonly Counted[]): Promise<Usage> {
  const listed = new Set(runs.map((r) => r.id));
  // Each run's parent id, for the runs of the set and the ancestors read to walk up from them.
  const parents = new Map<string, string | undefined>(runs.map((r) => [r.id, r.options.parent?.runId]));
  const parentOf = async (id: string): Promise<string | undefined> => {
    if (!parents.has(id)) parents.set(id, (await reader.get(id))?.options.parent?.runId);
    return parents.get(id);
  };
  const belowListed = async (run: Counted): Promise<boolean> => {
    const seen = new Set<string>();
    for (let id = run.options.parent?.runId; id !== undefined && !seen.has(id); id = await parentOf(id)) {
      if (listed.has(id)) return true;
      seen.add(id);
    }
    return false;
  };
  let total = zeroUsage;
  for (const run of runs) if (!(await belowListed(run))) total = addUsage(total, run.usage);
  return total;
}
