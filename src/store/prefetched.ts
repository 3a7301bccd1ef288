/**
 * Shared values a claim reads in the same statement (`ClaimOptions.prefetchShared`):
 * for each run the claim leases, the value at `prefix + runId` as the claim
 * saw it. A worker passes one with the `cancel:` prefix, so a drive it starts
 * knows whether its run has a cancel request without reading it again.
 */

export interface PrefetchedShared {
  readonly prefix: string;
  /** Called by the store during a claim with the claimed runs' values (a run without one left out). Replaces the previous ones. */
  fill(entries: Iterable<readonly [runId: string, value: unknown]>, claimed: Iterable<string>): void;
  /** The value for `runId` as of the last fill: null when it had none, undefined when the run was not claimed by that fill. */
  get<T>(runId: string): T | null | undefined;
  /** Forgets what the last fill brought (before each claim: a store that does not prefetch leaves it empty). */
  reset(): void;
}

/**
 * An empty holder for the values under `prefix`.
 * @example
 * const cancels = prefetchShared('cancel:');
 * const runs = await store.claim({ owner, now, leaseMs, limit: 4, prefetchShared: cancels });
 * cancels.get(runs[0].id); // null: no cancel request when it was claimed (undefined: the store did not prefetch)
 */
export function prefetchShared(prefix: string): PrefetchedShared {
  let values = new Map<string, unknown>();
  let covered = new Set<string>();
  return {
    prefix,
    fill(entries, claimed) {
      values = new Map(entries);
      covered = new Set(claimed);
    },
    get<T>(runId: string): T | null | undefined {
      if (!covered.has(runId)) return undefined;
      return (values.get(runId) ?? null) as T | null;
    },
    reset() {
      values = new Map();
      covered = new Set();
    },
  };
}
