/**
 * Cancel requests: how `cancel` reaches a run another drive is in the middle
 * of. The request is a shared store value (`cancel:<runId>`), so every process
 * on the store sees it; a drive reads it when it starts and polls it while it
 * lasts, and a drive in the same engine is told at once. The drive that sees
 * it aborts the step in flight, cancels the run and commits, so `cancel` never
 * has to wait for a step that may never end.
 */
import type { Store } from '../store/types.js';

export interface CancelRequest {
  readonly reason: string;
  readonly at: number;
}

/** What a drive watches: aborted once a cancel of its run is requested. */
export interface CancelWatch {
  readonly signal: AbortSignal;
  /** The request, once seen. */
  request(): CancelRequest | null;
  stop(): void;
}

export interface CancelRequests {
  /** Records a cancel request and tells this engine's drives of the run at once. */
  request(runId: string, request: CancelRequest): Promise<void>;
  /** Removes the request once the run is cancelled (or could not be). */
  clear(runId: string): Promise<void>;
  /**
   * Watches for a request for `runId`: reads the store now, then every `pollMs`. `fresh`: the run is not in
   * the store yet (a new child run), so no request for it can be there: the first read is skipped.
   */
  watch(runId: string, options?: { readonly fresh?: boolean }): Promise<CancelWatch>;
}

const keyOf = (runId: string) => `cancel:${runId}`;

/**
 * Creates the cancel requests of an engine over its store.
 *
 * @example
 * ```ts
 * const cancels = createCancelRequests(store, { pollMs: 1000 });
 * const watch = await cancels.watch(runId); // in the drive
 * await cancels.request(runId, { reason: 'operator', at: Date.now() }); // elsewhere: watch.signal aborts
 * ```
 */
export function createCancelRequests(store: Store, options: { readonly pollMs: number }): CancelRequests {
  const local = new Map<string, Set<(request: CancelRequest) => void>>();

  return {
    async request(runId, request) {
      await store.updateShared<CancelRequest | null>(keyOf(runId), () => request);
      for (const notify of local.get(runId) ?? []) notify(request);
    },

    async clear(runId) {
      await store.updateShared<CancelRequest | null>(keyOf(runId), () => null);
    },

    async watch(runId, watchOptions = {}) {
      const controller = new AbortController();
      let seen: CancelRequest | null = null;
      const notify = (request: CancelRequest) => {
        if (seen) return;
        seen = request;
        controller.abort(new Error(`run "${runId}" was cancelled: ${request.reason}`));
      };
      const listeners = local.get(runId) ?? new Set();
      listeners.add(notify);
      local.set(runId, listeners);
      const poll = async () => {
        const stored = await store.readShared<CancelRequest | null>(keyOf(runId)).catch(() => null);
        if (stored) notify(stored);
      };
      if (!watchOptions.fresh) await poll();
      let polling = false;
      const timer = setInterval(() => {
        if (polling || seen) return;
        polling = true;
        void poll().finally(() => (polling = false));
      }, options.pollMs);
      timer.unref();
      return {
        signal: controller.signal,
        request: () => seen,
        stop() {
          clearInterval(timer);
          listeners.delete(notify);
          if (listeners.size === 0) local.delete(runId);
        },
      };
    },
  };
}
