/**
 * A step's abort, for a sibling branch's failure to end the step's attempt
 * (fail_fast): the little of an `AbortSignal` that an attempt's race listens
 * to, without an `AbortController` per step, which is a measurable share of a
 * short step's cost. Listeners are called once, on the first abort.
 */
export interface CancelSource {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { readonly once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export class StepAbort implements CancelSource {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Array<() => void> | null = null;

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.listeners;
    if (listeners === null) return;
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  }

  /** Aborts, calling each listener once; only the first reason counts, as with `AbortController`. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = null;
    for (const listener of listeners ?? []) listener();
  }
}

/** An `AbortSignal` aborted with `source` (for what needs a real one: a request's signal). */
export function abortSignalOf(source: CancelSource): AbortSignal {
  const controller = new AbortController();
  if (source.aborted) controller.abort(source.reason);
  else source.addEventListener('abort', () => controller.abort(source.reason), { once: true });
  return controller.signal;
}
