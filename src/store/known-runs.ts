/**
 * The columns of a run that never change once it is stored (workflow,
 * version, definition, input, created_at), kept for the runs a store handed
 * out last, so a commit to one of them need not send them back: the
 * PostgreSQL store's commit returns only what a commit changes for a run it
 * knows. Bounded: the least recently used run is forgotten first.
 */
import type { RunRecord } from '../run/types.js';
import { BoundedMap } from '../util/bounded-map.js';

export type FixedColumns = Pick<RunRecord, 'id' | 'workflow' | 'version' | 'definition' | 'input' | 'createdAt'>;

export interface KnownRuns {
  /** The fixed columns of `runId`, if known (and marks it recently used). */
  get(runId: string): FixedColumns | undefined;
  /** Records (or refreshes) what a stored run's fixed columns are. */
  remember(run: RunRecord): void;
  /**
   * Refreshes them only when the run is known, without marking it used (a list read: a run id pruned and made
   * again holds other fixed columns, and a long list must not push out the runs a store drives).
   */
  refresh(run: RunRecord): void;
  forget(runId: string): void;
  readonly size: number;
}

const fixedOf = (run: RunRecord): FixedColumns => ({
  id: run.id, workflow: run.workflow, version: run.version, definition: run.definition, input: run.input, createdAt: run.createdAt,
});

/** How many runs a store remembers by default: a worker drives a handful at once, an engine a few hundred. */
export const KNOWN_RUNS = 1024;

/**
 * A bounded set of known runs.
 * @example
 * const known = knownRuns();
 * known.remember(claimedRun);
 * known.get(claimedRun.id)?.definition; // sent back by no later commit
 */
export function knownRuns(max = KNOWN_RUNS): KnownRuns {
  const runs = new BoundedMap<string, FixedColumns>(max);
  return {
    get: (runId) => runs.touch(runId),
    remember(run) {
      runs.set(run.id, fixedOf(run));
    },
    refresh(run) {
      runs.replace(run.id, fixedOf(run));
    },
    forget(runId) {
      runs.delete(runId);
    },
    get size() {
      return runs.size;
    },
  };
}
