/** A run's journal, in order: what `show --json` prints under `journal` and `engine.journal()` returns. */
import type { JournalEntry } from '../run/types.js';
import type { RunReader } from './reader.js';
import { findRun } from './run.js';

/** The journal of a run; throws `RunNotFoundError` when the run does not exist. */
export async function runJournal(reader: RunReader, runId: string): Promise<JournalEntry[]> {
  const { id } = await findRun(reader, runId);
  return reader.journal(id);
}
