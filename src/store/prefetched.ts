/**
 * Shared values a claim reads in the same statement (`ClaimOptions.prefetchShared`):
 * for each run the claim leases, the value at `prefix + runId` as the claim
 * saw it. A worker passes one with the `cancel:` prefix, so a drive it starts
 * knows whether its run has a cancel request without reading it again.
 */

export interface PrefetchedShared {
  readonly prefix: string;
  /** Called by the store during a claim with each claimed run and its value (null or undefined: none). Replaces the previous ones. */
  fill(claimed: Iterable<readonly [runId: string, value: unknown]>): void;
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
  /** The claimed runs of the last fill, each with its value (null: none). */
  let values = new Map<string, unknown>();
  return {
    prefix,
    fill(claimed) {
      values = new Map();
      for (const [runId, value] of claimed) values.set(runId, value ?? null);
    },
    get<T>(runId: string): T | null | undefined {
      return values.get(runId) as T | null | undefined;
    },
    reset() {
      values = new Map();
    },
  };
}
