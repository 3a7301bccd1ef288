/**
 * When the steps of a run stop taking events from outside, read from the store
 * without driving anything: at the run's workflow `deadline`, or at the
 * deadline of a run above it (a parent that fails on its deadline cancels its
 * children). An event sent from then on finds the timer fired first and is
 * refused (../engine/due-timers.ts), so the inbox no longer offers their steps,
 * though nothing may have fired the timer yet. (A wait's own `timeout` is read
 * from the run alone: ../engine/position.ts `waitTimeoutAt`.)
 */
import { deadlineAt } from '../engine/position.js';
import { snapshotOf } from '../engine/view.js';
import type { RunRecord } from '../run/types.js';
import type { RunReader } from './reader.js';

const earlier = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

/**
 * The earliest deadline of a run and of the runs above it, by run, each run read once: `known` (runs read already)
 * first, then the store. A parent that is gone counts as having none.
 */
export function runClosesAt(reader: Pick<RunReader, 'get'>, known: ReadonlyMap<string, RunRecord>): (record: RunRecord) => Promise<number | null> {
  const found = new Map<string, Promise<number | null>>();
  const closesAt = (record: RunRecord): Promise<number | null> => {
    let at = found.get(record.id);
    if (!at) {
      at = (async () => {
        const own = deadlineAt(record.definition.workflow, snapshotOf(record).context);
        const link = record.options.parent;
        if (!link) return own;
        const parent = known.get(link.runId) ?? (await reader.get(link.runId));
        return earlier(own, parent ? await closesAt(parent) : null);
      })();
      found.set(record.id, at);
    }
    return at;
  };
  return closesAt;
}
