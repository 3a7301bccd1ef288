/**
 * The application's observers (`subscribe` listeners, the `inspect` observer)
 * called so that one that throws, or returns a promise that rejects, neither
 * stops the run whose commit it was told of nor keeps the observers after it
 * from hearing it: a run's progress never depends on code that only watches it.
 * What they throw is reported as a process warning, once per observer.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { messageOf } from '../util/error-message.js';

/** Reports the first failure of one observer (as a process warning), the rest silently dropped. */
function reporter(what: string): (error: unknown) => void {
  let told = false;
  return (error) => {
    if (told) return;
    told = true;
    process.emitWarning(`stepwise: ${what} threw, which the run ignores: ${messageOf(error)}`, 'StepwiseObserverWarning');
  };
}

/**
 * `listener`, called so that what it throws or rejects with is reported, not raised.
 * @example
 * const safe = guarded((view) => { throw new Error('bug'); }, 'a subscribe listener');
 * safe(view); // returns; a warning says the listener threw
 */
export function guarded<A extends unknown[]>(listener: (...args: A) => unknown, what: string): (...args: A) => void {
  const report = reporter(what);
  return (...args) => {
    try {
      const result = listener(...args);
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') (result as PromiseLike<unknown>).then(undefined, report);
    } catch (error) {
      report(error);
    }
  };
}

/** An `inspect` observer (a function or an XState observer) as a guarded function. */
export function guardedInspector(inspect: Observer<InspectionEvent> | ((event: InspectionEvent) => void)): (event: InspectionEvent) => void {
  const call = typeof inspect === 'function' ? inspect : (event: InspectionEvent) => inspect.next?.(event);
  return guarded(call, 'an inspect observer');
}
