/** A run's timeline (`show`): one row per step attempt and per other event, the failure point marked. */
import { buildTimeline, type Timeline } from '../observe/timeline.js';
import type { RunReader } from './reader.js';
import { findRun } from './run.js';

/** The timeline of a run; throws `RunNotFoundError` when the run does not exist. */
export async function runTimeline(reader: RunReader, runId: string): Promise<Timeline> {
  const record = await findRun(reader, runId);
  return buildTimeline(await reader.journal(record.id), record.failure);
}
