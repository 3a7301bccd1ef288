/**
 * The child runs a waiting run waits on: a `workflow` step's child (or a map's
 * items) resting at a `wait`, each with the events it accepts (its own waits'
 * and those of the children it waits on in turn). `send` to the run, or to
 * the child, delivers them. What `show` prints as `waiting on child run …`.
 */
import { acceptedEvents, waitingChain } from '../engine/child-events.js';
import type { RunRecord } from '../run/types.js';
import type { RunReader } from './reader.js';

export interface WaitingOn {
  /** The waiting child run. */
  readonly runId: string;
  /** This run's step that started it. */
  readonly step: string;
  /** The events it accepts. */
  readonly events: readonly string[];
}

/** The waiting children of `record` (oldest first, from `children`, its child runs), or none when it does not wait. */
export async function waitingOn(reader: RunReader, record: RunRecord, children: readonly RunRecord[]): Promise<WaitingOn[]> {
  if (record.status !== 'waiting') return [];
  const waiting = children.filter((c) => c.status === 'waiting');
  return Promise.all(waiting.map(async (c) => ({ runId: c.id, step: c.options.parent?.step ?? '', events: [...(await accepted(reader, c))] })));
}

/** What `run` accepts: its own waits' events and those of its waiting descendants (the engine's `waitingChain` walk). */
async function accepted(reader: RunReader, run: RunRecord): Promise<Set<string>> {
  const events = new Set(acceptedEvents(run).flatMap((w) => w.events));
  await waitingChain(reader, run, '', events);
  return events;
}
