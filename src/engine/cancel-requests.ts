/**
 * Cancel requests: how `cancel` reaches a run another drive is in the middle
 * of. The request is a shared store value (`cancel:<runId>`), so every process
 * on the store sees it; a drive may read it when it starts, the engine's one
 * poller reads it for every run its drives watch while they last, and a drive
 * in the same engine is told at once. The drive that sees it aborts the step
 * in flight, cancels the run and commits, so `cancel` never has to wait for a
 * step that may never end.
 */
import type { Store } from '../store/types.js';
import { StepAbort, type CancelSource } from './step-abort.js';

export interface CancelRequest {
  readonly reason: string;
  readonly at: number;
}

/** What a drive watches: aborted once a cancel of its run is requested. */
export interface CancelWatch {
  /** Aborted once a request is seen; listening to it costs no `AbortController`. */
  readonly source: CancelSource;
  /** The same as an `AbortSignal`, made when first read (aborted already if the request came before). */
  readonly signal: AbortSignal;
  /** The request, once seen. */
  request(): CancelRequest | null;
  /**
   * Reads the store for a request now (a run that may have one from before this drive); with `known` (the request,
   * or null for none, as read with the claim that leased the run) takes that instead of reading again.
   */
  check(known?: CancelRequest | null): Promise<void>;
  stop(): void;
}

export interface CancelRequests {
  /** Records a cancel request and tells this engine's drives of the run at once. */
  request(runId: string, request: CancelRequest): Promise<void>;
  /** Removes the request once the run is cancelled (or could not be). */
  clear(runId: string): Promise<void>;
  /**
   * Watches for a request for `runId` until `stop`: told at once of a request made through this engine, and
   * of one made elsewhere by the engine's poller, which reads the store's requests each `pollMs` (all at once
   * with `readSharedPrefix`, else one read per watched run).
   * The store is not read now: `check` does that for a run that may have a request already.
   */
  watch(runId: string): CancelWatch;
}

export interface CancelRequestsOptions {
  /** Time between two reads of the watched runs' requests. */
  readonly pollMs: number;
  /** Waits `ms`: the poller's timer. Default real time, whatever the engine's clock. */
  readonly timer?: (ms: number) => Promise<void>;
}

/** The prefix of every cancel request's shared key; the rest is the run id. */
export const CANCEL_PREFIX = 'cancel:';
const keyOf = (runId: string) => `${CANCEL_PREFIX}${runId}`;

/** Waits `ms` of real time, unref'd: a poller never keeps the process alive. */
const realTimer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** What a watch asks of the engine's cancel requests. */
interface Hub {
  read(runId: string): Promise<CancelRequest | null>;
  release(watch: Watch): void;
}

/** One drive's watch: a cheap abort flag, with an `AbortSignal` made only for those that need one. */
class Watch implements CancelWatch {
  readonly source = new StepAbort();
  private controller: AbortController | null = null;
  private seen: CancelRequest | null = null;

  constructor(
    readonly runId: string,
    private readonly hub: Hub,
  ) {}

  stop(): void {
    this.hub.release(this);
  }

  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.source.aborted) this.controller.abort(this.source.reason);
    }
    return this.controller.signal;
  }

  request(): CancelRequest | null {
    return this.seen;
  }

  notify(request: CancelRequest): void {
    if (this.seen) return;
    this.seen = request;
    const reason = new Error(`run "${this.runId}" was cancelled: ${request.reason}`);
    this.source.abort(reason);
    this.controller?.abort(reason);
  }

  async check(known?: CancelRequest | null): Promise<void> {
    const stored = known !== undefined ? known : await this.hub.read(this.runId);
    if (stored) this.notify(stored);
  }
}

/**
 * Creates the cancel requests of an engine over its store.
 *
 * @example
 * ```ts
 * const cancels = createCancelRequests(store, { pollMs: 1000 });
 * const watch = cancels.watch(runId); // in the drive (then `await watch.check()` for a run that existed before)
 * await cancels.request(runId, { reason: 'operator', at: Date.now() }); // elsewhere: watch.signal aborts
 * ```
 */
export function createCancelRequests(store: Store, options: CancelRequestsOptions): CancelRequests {
  const timer = options.timer ?? realTimer;
  /** The watches of the drives in flight, by run. */
  const watched = new Map<string, Set<Watch>>();
  /** Whether the poller runs: from the first watch until it finds nothing watched. */
  let polling = false;

  const hub: Hub = {
    read: (runId) => store.readShared<CancelRequest | null>(keyOf(runId)).catch(() => null),
    release(watch) {
      const watches = watched.get(watch.runId);
      if (!watches) return;
      watches.delete(watch);
      if (watches.size === 0) watched.delete(watch.runId);
    },
  };
  const tell = (runId: string, request: CancelRequest) => {
    for (const watch of watched.get(runId) ?? []) watch.notify(request);
  };

  /** One read of every watched run that has not seen its request yet: every request in one read when the store can. */
  async function poll(): Promise<void> {
    const pending = [...watched].filter(([, watches]) => [...watches].some((w) => w.request() === null)).map(([runId]) => runId);
    if (pending.length === 0) return;
    if (store.readSharedPrefix) {
      const all = await store.readSharedPrefix<CancelRequest>(CANCEL_PREFIX).catch(() => []);
      const requests = new Map(all.map(([key, request]) => [key.slice(CANCEL_PREFIX.length), request]));
      for (const runId of pending) {
        const request = requests.get(runId);
        if (request) tell(runId, request);
      }
      return;
    }
    await Promise.all(
      pending.map(async (runId) => {
        const stored = await hub.read(runId);
        if (stored) tell(runId, stored);
      }),
    );
  }

  /** Polls every `pollMs`, one poll at a time, until a poll is due and nothing is watched (drives come and go between polls at no cost). */
  async function pollWhileWatched(): Promise<void> {
    polling = true;
    try {
      for (;;) {
        await timer(options.pollMs);
        if (watched.size === 0) return;
        await poll();
      }
    } finally {
      polling = false;
    }
  }

  return {
    async request(runId, request) {
      await store.updateShared<CancelRequest | null>(keyOf(runId), () => request);
      tell(runId, request);
    },

    async clear(runId) {
      await store.updateShared<CancelRequest | null>(keyOf(runId), () => null);
    },

    watch(runId) {
      let watches = watched.get(runId);
      if (!watches) watched.set(runId, (watches = new Set()));
      const watch = new Watch(runId, hub);
      watches.add(watch);
      if (!polling) void pollWhileWatched();
      return watch;
    },
  };
}
