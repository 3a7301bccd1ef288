/** The summary `stats` prints: completion rate, tokens and cost per run, failures by kind, overall and per workflow. */
import { storeStats, type StoreStats } from '../observe/stats.js';
import type { JournalEntry, RunFilter } from '../run/types.js';
import { usageCountedOnce } from './counted-once.js';
import { storeFilter, type ListFilter } from './list.js';
import type { RunReader } from './reader.js';

/**
 * Summarises the runs `filter` selects, top-level runs only as `list` shows them unless it asks for children: a
 * parent is charged what its child runs (a map's items, sub-workflows) spend, so counting them as runs of their own
 * would count their spend twice. The attempt-level counts (failed attempts by kind, retries) take in the journals of
 * a run's child runs, at any depth, with its own: that is where its items' attempts are.
 */
export async function runStats(reader: RunReader, filter?: ListFilter): Promise<StoreStats> {
  const runs = await reader.list(storeFilter(filter));
  const journals = new Map<string, JournalEntry[]>();
  for (const run of runs) journals.set(run.id, await journalWithChildren(reader, run.id, filter?.children === true));
  const stats = storeStats(runs, journals);
  if (filter?.children !== true) return stats;
  // Children listed beside their parents: the totals count their tokens once, in their parents'.
  const spent = await usageCountedOnce(reader, runs);
  return { ...stats, totalTokens: spent.totalTokens, totalUsd: spent.usd };
}

/** The journal of a run followed by those of its child runs at any depth (unless they are listed as runs themselves). */
async function journalWithChildren(reader: RunReader, runId: string, listed: boolean): Promise<JournalEntry[]> {
  const entries = [...(await reader.journal(runId))];
  if (listed) return entries;
  for (let parents = [runId]; parents.length > 0; ) {
    const children = (await Promise.all(parents.map((parentId) => reader.list({ parentId })))).flat();
    for (const child of children) entries.push(...(await reader.journal(child.id)));
    parents = children.map((c) => c.id);
  }
  return entries;
}
