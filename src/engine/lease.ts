/**
 * Per-run leases for engine commands (start, send, resume, step, cancel): a
 * command holds the run's lease while it drives it, renews it on a heartbeat,
 * and releases it at the end, so it never races a worker or another command.
 * A lease left by a process that died on this machine is taken over at once
 * (the owner id names host and pid); any other lease only when it expires.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { RunNotFoundError, StepwiseError } from '../errors.js';
import { LeaseLostError, type Store } from '../store/types.js';
import type { Clock } from './clock.js';

export interface LeaseOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly runId: string;
  readonly owner: string;
  readonly leaseMs: number;
  /** How long to wait for a lease someone else holds before giving up. */
  readonly waitMs: number;
}

/** This machine's host name, asked once (a system call each time). */
let thisHost: string | undefined;

/** An owner id `host:pid:random`, which lets a process on the same host tell a dead holder. */
export function ownerId(prefix = ''): string {
  return `${(thisHost ??= hostname())}:${process.pid}:${prefix}${randomUUID().slice(0, 8)}`;
}

/** True when `owner` names a process on this host that no longer exists. */
export function ownerIsDead(owner: string): boolean {
  const [host, pidText] = owner.split(':');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Takes the run's lease, waiting up to `waitMs` for another holder. Returns
 * false, holding nothing, for a run that has ended (`done`, `cancelled`):
 * nothing drives it again, so there is nothing to wait for.
 */
export async function acquireLease(options: LeaseOptions): Promise<boolean> {
  const { store, clock, runId, owner, leaseMs } = options;
  const giveUp = Date.now() + options.waitMs;
  for (;;) {
    if (await store.acquire(runId, owner, clock.now(), leaseMs)) return true;
    const record = await store.get(runId);
    if (!record) throw new RunNotFoundError(runId);
    if (record.status === 'done' || record.status === 'cancelled') return false;
    const holder = record.lease?.owner;
    if (holder && ownerIsDead(holder) && (await store.acquire(runId, owner, clock.now(), leaseMs, holder))) return true;
    if (Date.now() >= giveUp) {
      throw new StepwiseError(
        'run_busy',
        `Run "${runId}" is being driven by ${holder ?? 'another process'} (lease until ${record.lease ? new Date(record.lease.until).toISOString() : '?'}); try again when it is done.`,
      );
    }
    await sleep(50);
  }
}

/** A lease being held: renewed on a heartbeat, and checked by the driver around every effect. */
export interface LeaseHandle {
  readonly owner: string;
  /** Aborted, with a {@link LeaseLostError}, once the lease is found lost. */
  readonly signal: AbortSignal;
  /**
   * True while the lease is still this owner's. When the last renewal is older
   * than the heartbeat interval (a tool blocked the event loop, so the heartbeat
   * could not run) it renews first: a lease that expired but that nobody took
   * over is extended; one another owner took is lost (false, `signal` aborted).
   */
  check(): Promise<boolean>;
  stop(): void;
}

/**
 * Renews a held lease every `heartbeatMs` until stopped; aborts the returned
 * signal when the lease is lost (another owner took it over). A heartbeat
 * needs a free event loop, so the driver also calls `check()` right before and
 * right after each effect, and its commits name the owner. `grantedAt` is the
 * clock time the lease was taken at (its `until` minus `leaseMs`), not when the
 * heartbeat starts: a process stalled in between must not count the lease as fresh.
 * `unstored`: the run is not in the store yet and will be created with this lease; until it is found, a renewal
 * that finds no run keeps the lease (one that finds the run under another owner loses it).
 */
export function heartbeat(
  store: Store, clock: Clock, runId: string, owner: string, leaseMs: number, heartbeatMs: number, grantedAt: number = clock.now(), unstored = false,
): LeaseHandle {
  const lost = new AbortController();
  let renewedAt = grantedAt;
  let pending: Promise<boolean> | null = null;
  /** The run is to be created with this lease and was not found in the store yet. */
  let awaitingCreate = unstored;
  const renew = (): Promise<boolean> => {
    if (lost.signal.aborted) return Promise.resolve(false);
    pending ??= (async () => {
      const at = clock.now();
      try {
        if (await store.renew(runId, owner, at + leaseMs)) {
          awaitingCreate = false;
          renewedAt = Math.max(renewedAt, at);
          return true;
        }
        // undefined: the store could not say (the lease is lost, as before); null: no such run yet.
        const stored = await store.get(runId).catch(() => undefined);
        // Not created yet: the create that will store it carries this lease, so nobody else can hold it meanwhile.
        if (stored === null && awaitingCreate) return true;
        lost.abort(new LeaseLostError(runId, owner, stored?.lease?.owner ?? null));
        return false;
      } finally {
        pending = null;
      }
    })();
    return pending;
  };
  const timer = setInterval(() => renew().catch(() => {}), heartbeatMs);
  timer.unref();
  return {
    owner,
    signal: lost.signal,
    async check() {
      if (lost.signal.aborted) return false;
      if (clock.now() - renewedAt < heartbeatMs) return true;
      return renew();
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * Runs `work` holding the run's lease, renewed on a heartbeat, released
 * afterwards. `held` skips the acquire for a run created with this lease at `grantedAt`; `unstored`: one that
 * `work` creates with this lease (its first commit), which the heartbeat does not count as lost before it exists.
 * `work` gets the lease, or null for a run that has ended (nothing is held).
 */
export async function withLease<T>(
  options: LeaseOptions & { readonly held?: boolean; readonly grantedAt?: number; readonly unstored?: boolean },
  work: (lease: LeaseHandle | null) => Promise<T>,
): Promise<T> {
  // Taken no earlier than now: counting from here never makes the lease look fresher than it is.
  const grantedAt = options.grantedAt ?? options.clock.now();
  if (!options.held && !(await acquireLease(options))) return work(null);
  const heartbeatMs = Math.max(10, Math.floor(options.leaseMs / 3));
  const beat = heartbeat(options.store, options.clock, options.runId, options.owner, options.leaseMs, heartbeatMs, grantedAt, options.unstored);
  try {
    return await work(beat);
  } finally {
    beat.stop();
    await options.store.release(options.runId, options.owner).catch(() => {});
  }
}
