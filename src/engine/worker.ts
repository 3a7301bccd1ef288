/**
 * Workers: `engine.work()` claims runnable runs from the store with leases
 * (`FOR UPDATE SKIP LOCKED` on PostgreSQL), drives each until it rests, renews
 * the leases on a heartbeat and releases them afterwards. A run whose worker
 * died is taken over once its lease expires, or at once when the dead holder
 * was a process on this host. A worker never claims a run it is driving, and a
 * run taken over while one of its steps ran (the step outlived the lease) is
 * dropped without committing that step. An idle worker sleeps `pollMs`
 * between claims, or less when the store tells it a run became claimable
 * (`store.onRunnable`, PostgreSQL LISTEN/NOTIFY). Aborting `signal` drains: no new
 * claims, in-flight runs stop at their next step boundary with that step
 * committed, leases are released.
 *
 * With a store that has `claimReleases`, a worker step costs one statement: the
 * release of a run the worker finished waits for its next claim, which carries
 * it, and the claim also reads the new runs' cancel requests, so their drives
 * need not. A worker that stops (drained or idle) releases what still waits.
 */
import type { RunRecord } from '../run/types.js';
import { prefetchShared } from '../store/prefetched.js';
import { LeaseLostError, type Store } from '../store/types.js';
import { CANCEL_PREFIX, type CancelRequest } from './cancel-requests.js';
import type { Clock } from './clock.js';
import { heartbeat, ownerId, ownerIsDead, type LeaseHandle } from './lease.js';

export interface WorkOptions {
  /** Lease owner id; default `host:pid:w…`, unique per call. */
  readonly owner?: string;
  /** Runs driven at once. Default 4. */
  readonly concurrency?: number;
  /** How long a claim holds a run without a heartbeat. Default 30 s. */
  readonly leaseMs?: number;
  /** How often held leases are renewed. Default a third of `leaseMs`. */
  readonly heartbeatMs?: number;
  /** How long to wait between claims when nothing was runnable; a store that announces claimable runs wakes the worker sooner. Default 250 ms. */
  readonly pollMs?: number;
  /** Abort to drain: finish the steps in flight, release the leases, return. */
  readonly signal?: AbortSignal;
  /**
   * Return once nothing is left to do: no run is claimable, none is in flight,
   * and no run is still `running` (in a backoff, or leased by a worker that may
   * have died). Runs that wait for an event do not keep the worker.
   */
  readonly exitWhenIdle?: boolean;
  /**
   * Called when driving a run throws; the run's lease is kept until it expires, then it is retried.
   * Also called with a {@link LeaseLostError} when another owner took a run over while this worker drove it.
   */
  readonly onError?: (runId: string, error: unknown) => void;
}

export interface WorkSummary {
  readonly owner: string;
  /** Runs claimed (a run claimed again after a backoff counts again). */
  readonly claimed: number;
  readonly errors: number;
  /** Runs taken over by another owner while this worker drove them (a step outlived the lease); nothing of that step was committed. */
  readonly lost: number;
}

/** What a worker needs from its engine. */
export interface WorkerHost {
  readonly store: Store;
  readonly clock: Clock;
  drive(
    record: RunRecord,
    options: {
      readonly signal: AbortSignal;
      readonly stop: AbortSignal;
      readonly lease: LeaseHandle;
      /** The run's cancel request (null: none) as read with the claim that leased it; absent when not read so. */
      readonly cancelRequest?: CancelRequest | null;
    },
  ): Promise<{ readonly status: string; readonly updatedAt: number }>;
}

/** Runs that threw this many times in one worker are left alone by its idle check. */
const GIVE_UP_AFTER = 3;

export async function work(host: WorkerHost, options: WorkOptions = {}): Promise<WorkSummary> {
  const { store, clock } = host;
  const owner = options.owner ?? ownerId('w');
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const leaseMs = options.leaseMs ?? 30_000;
  const heartbeatMs = options.heartbeatMs ?? Math.max(10, Math.floor(leaseMs / 3));
  const pollMs = options.pollMs ?? 250;
  const stop = options.signal ?? new AbortController().signal;
  const inFlight = new Map<string, Promise<void>>();
  const failures = new Map<string, number>();
  let claimed = 0;
  let errors = 0;
  let lost = 0;
  let wake: () => void = () => {};
  let lastOrphanScan = 0;
  /** A run became claimable since the last claim began: the next pause returns at once. */
  let announced = false;
  /** Runs this worker finished, released by its next claim (a store with `claimReleases`), or when it stops. */
  const releasing: string[] = [];
  const deferRelease = store.claimReleases === true;
  /** The cancel requests of the runs each claim leases, read by the claim itself. */
  const cancels = deferRelease ? prefetchShared(CANCEL_PREFIX) : undefined;
  const unsubscribe = store.onRunnable?.(() => {
    announced = true;
    wake();
  });

  const pause = (ms: number) =>
    new Promise<void>((done) => {
      if (announced || stop.aborted) return done(); // a drain that began during the claim waits for no poll
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        stop.removeEventListener('abort', finish);
        done();
      }
      wake = finish;
      stop.addEventListener('abort', finish, { once: true });
    });

  async function driveOne(record: RunRecord, cancelRequest: CancelRequest | null | undefined): Promise<void> {
    const grantedAt = record.lease ? record.lease.until - leaseMs : clock.now();
    const beat = heartbeat(store, clock, record.id, owner, leaseMs, heartbeatMs, grantedAt);
    let failed = false;
    let stuck = false;
    try {
      const after = await host.drive(record, { signal: beat.signal, stop, lease: beat, ...(cancelRequest !== undefined ? { cancelRequest } : {}) });
      // A drive that changed nothing must not be claimed again at once: its lease is kept until it expires.
      stuck = after.updatedAt === record.updatedAt && after.status === 'running';
      if (stuck) failures.set(record.id, (failures.get(record.id) ?? 0) + 1);
      else failures.delete(record.id);
    } catch (error) {
      failed = true;
      if (error instanceof LeaseLostError) {
        // Another owner drives the run now; nothing here to retry or release.
        lost++;
        options.onError?.(record.id, error);
        return;
      }
      errors++;
      failures.set(record.id, (failures.get(record.id) ?? 0) + 1);
      options.onError?.(record.id, error);
    } finally {
      beat.stop();
      // A run that failed or changed nothing keeps its lease until it expires, so it is not claimed again at once;
      // but a draining worker is about to exit, and lets go of everything (a lease another owner took is not ours to release).
      // The release of a run that ended well rides on the next claim when the store can do that.
      if (deferRelease && !stop.aborted && !failed && !stuck) releasing.push(record.id);
      else if (stop.aborted || (!failed && !stuck)) await store.release(record.id, owner).catch(() => {});
      inFlight.delete(record.id);
      wake();
    }
  }

  /** Runs leased by a process on this host that died: taken over without waiting for the lease to expire. */
  async function orphans(limit: number): Promise<RunRecord[]> {
    if (limit <= 0 || Date.now() - lastOrphanScan < Math.max(pollMs, 1000)) return [];
    lastOrphanScan = Date.now();
    const taken: RunRecord[] = [];
    for (const run of await running()) {
      if (taken.length >= limit) break;
      const holder = run.lease?.owner;
      if (!holder || inFlight.has(run.id) || !ownerIsDead(holder)) continue;
      if (!(await store.acquire(run.id, owner, clock.now(), leaseMs, holder))) continue;
      const fresh = await store.get(run.id);
      if (fresh) taken.push(fresh);
    }
    return taken;
  }

  /** The top-level running runs' ids and leases (child runs are their parents' to drive): not their snapshots, when the store can. */
  const running = (): Promise<ReadonlyArray<{ readonly id: string; readonly lease: RunRecord['lease'] }>> =>
    store.runningLeases ? store.runningLeases() : store.list({ status: ['running'], parentId: null });

  async function idle(): Promise<boolean> {
    return (await running()).every((run) => (failures.get(run.id) ?? 0) >= GIVE_UP_AFTER);
  }

  while (!stop.aborted) {
    const free = concurrency - inFlight.size;
    let batch: RunRecord[] = [];
    let claimFailed = false;
    // A claim follows (or a slot frees first, and its run's end wakes the loop): what was announced is looked at now.
    announced = false;
    if (free > 0 || releasing.length > 0) {
      // Never a run this worker drives again (claimed anew since it ended).
      const release = releasing.splice(0).filter((id) => !inFlight.has(id));
      cancels?.reset();
      try {
        batch = await store.claim({
          owner, now: clock.now(), leaseMs, limit: Math.max(0, free), exclude: [...inFlight.keys()],
          ...(release.length > 0 ? { release } : {}), ...(cancels ? { prefetchShared: cancels } : {}),
        });
        if (batch.length === 0 && free > 0) batch = await orphans(free);
      } catch (error) {
        claimFailed = true;
        releasing.push(...release); // with the next claim, or when the worker stops
        errors++;
        options.onError?.('', error);
      }
    }
    for (const record of batch) {
      claimed++;
      inFlight.set(record.id, driveOne(record, cancels?.get<CancelRequest>(record.id)));
    }
    // Yield to the event loop between claims: with a synchronous store every await above resolves at
    // once, and signals (SIGTERM drains) and timers would otherwise never run.
    await new Promise<void>((done) => setImmediate(done));
    if (batch.length > 0 || (releasing.length > 0 && !claimFailed)) continue;
    if (options.exitWhenIdle && inFlight.size === 0 && (await idle().catch(() => false))) break;
    await pause(pollMs);
  }
  unsubscribe?.();
  // Releases no claim will carry now: a worker that stops leaves no run it finished leased. Those waiting go at once
  // (a drain does not hold them while the steps in flight finish), then any a finishing step queued.
  const releaseWaiting = () => Promise.all(releasing.splice(0).map((runId) => store.release(runId, owner).catch(() => {})));
  await releaseWaiting();
  await Promise.all(inFlight.values());
  await releaseWaiting();
  return { owner, claimed, errors, lost };
}
