/**
 * Waiting for a long-lived signal (a draining worker's or server's stop) from
 * many places at once: every drive of a run, a map item or a branch waits on
 * the same one. Each waiter adding its own 'abort' listener made Node warn of a
 * "possible EventTarget memory leak" past ten; here a signal gets one listener,
 * which calls the waiters of the moment.
 */

/** The waiters of each signal that has some, called by the signal's one listener. */
const waiters = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Resolves when `signal` aborts (at once when it has); `over` lets go of the wait (the promise then never settles).
 *
 * @example
 * const over = new AbortController();
 * try { await Promise.race([work, whenAborted(stop, over.signal)]); } finally { over.abort(); }
 */
export function whenAborted(signal: AbortSignal, over: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    if (over.aborted) return;
    let waiting = waiters.get(signal);
    if (waiting === undefined) {
      const fresh = new Set<() => void>();
      waiters.set(signal, fresh);
      signal.addEventListener(
        'abort',
        () => {
          waiters.delete(signal);
          for (const waiter of [...fresh]) waiter();
        },
        { once: true },
      );
      waiting = fresh;
    }
    const set = waiting;
    set.add(resolve);
    over.addEventListener('abort', () => set.delete(resolve), { once: true });
  });
}
