/**
 * A store's own failures, named as such: what a backend's driver throws (SQLite's
 * "database or disk is full", a PostgreSQL connection the server terminated)
 * leaves every method of the store as the error `failed` makes of it
 * (`StepwiseError('store_failed')` naming the store, by ./open.ts). What the
 * store contract itself throws passes as it is: a {@link StepwiseError} (a run
 * not found, a lease lost) or a {@link ConflictError}, and whatever the
 * caller's own `updateShared` function throws.
 */
import { StepwiseError } from '../errors.js';
import { ConflictError, type Store } from './types.js';

/** Whether an error is one of the store contract's own (passed through as it is). */
const isContractError = (error: unknown): boolean => error instanceof StepwiseError || error instanceof ConflictError;

/**
 * `store` with the driver's errors turned into `failed(error)`.
 *
 * @example
 * const named = withNamedFailures(store, (error) => new StepwiseError('store_failed', `The store failed: ${messageOf(error)}`, { cause: error }));
 */
export function withNamedFailures(store: Store, failed: (error: unknown) => StepwiseError): Store {
  /** The error a caller gets: the driver's renamed, the contract's (and what `passes`) as they are. */
  const renamed = (error: unknown, passes: (error: unknown) => boolean): unknown => (passes(error) || isContractError(error) ? error : failed(error));
  /** The promise `call` returns, a driver error renamed; a synchronous throw too. */
  function guarded<T>(call: () => Promise<T>, passes: (error: unknown) => boolean = () => false): Promise<T> {
    try {
      return call().catch((error: unknown) => {
        throw renamed(error, passes);
      });
    } catch (error) {
      return Promise.reject(renamed(error, passes));
    }
  }
  const runningLeases = store.runningLeases;
  const readSharedPrefix = store.readSharedPrefix;
  const onRunnable = store.onRunnable;
  return {
    kind: store.kind,
    ...(store.claimReleases !== undefined ? { claimReleases: store.claimReleases } : {}),
    migrate: () => guarded(() => store.migrate()),
    create: (run, journal) => guarded(() => store.create(run, journal)),
    get: (runId) => guarded(() => store.get(runId)),
    list: (filter) => guarded(() => store.list(filter)),
    ...(runningLeases ? { runningLeases: () => guarded(() => runningLeases.call(store)) } : {}),
    commit: (runId, patch, journal, expectRevision, owner) => guarded(() => store.commit(runId, patch, journal, expectRevision, owner)),
    journal: (runId) => guarded(() => store.journal(runId)),
    claim: (options) => guarded(() => store.claim(options)),
    renew: (runId, owner, until) => guarded(() => store.renew(runId, owner, until)),
    release: (runId, owner) => guarded(() => store.release(runId, owner)),
    acquire: (runId, owner, now, leaseMs, replacing) => guarded(() => store.acquire(runId, owner, now, leaseMs, replacing)),
    prune: (options) => guarded(() => store.prune(options)),
    updateShared<T>(key: string, update: (current: T | null) => T): Promise<T> {
      // The caller's function may throw what it likes: that is not the store failing.
      const thrown = new Set<unknown>();
      const watched = (current: T | null): T => {
        try {
          return update(current);
        } catch (error) {
          thrown.add(error);
          throw error;
        }
      };
      return guarded(() => store.updateShared(key, watched), (error) => thrown.has(error));
    },
    readShared: <T>(key: string) => guarded(() => store.readShared<T>(key)),
    ...(readSharedPrefix ? { readSharedPrefix: <T>(prefix: string) => guarded(() => readSharedPrefix.call(store, prefix) as Promise<Array<readonly [string, T]>>) } : {}),
    ...(onRunnable ? { onRunnable: (listener: () => void) => onRunnable.call(store, listener) } : {}),
    close: () => guarded(() => store.close()),
  };
}
