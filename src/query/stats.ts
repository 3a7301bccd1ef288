/** The summary `stats` prints: completion rate, tokens and cost per run, failures by kind, overall and per workflow. */
import { storeStats, type StoreStats } from '../observe/stats.js';
import type { JournalEntry, RunFilter } from '../run/types.js';
import type { RunReader } from './reader.js';

/** Summarises the runs `filter` selects, with their journals for the attempt-level counts. */
export async function runStats(reader: RunReader, filter?: RunFilter): Promise<StoreStats> {
  const runs = await reader.list(filter);
  const journals = new Map<string, JournalEntry[]>();
  for (const run of runs) journals.set(run.id, await reader.journal(run.id));
  return storeStats(runs, journals);
}
