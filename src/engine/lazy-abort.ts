/**
 * An attempt's abort controller, made only when its signal is read: most
 * tools never look at their signal, and an `AbortController` per attempt is a
 * measurable share of a short step's cost. Aborted before anyone read it, the
 * signal is made already aborted, with the same reason, when it is read.
 */
export class LazyAbort {
  private controller: AbortController | null = null;
  private abortedWith: { readonly reason: unknown } | null = null;

  /** The attempt's signal, made on first read. */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  /** Aborts the signal (now if it was read, else when it is). Only the first reason counts, as with `AbortController`. */
  abort(reason?: unknown): void {
    if (this.controller !== null) this.controller.abort(reason);
    else this.abortedWith ??= { reason };
  }
}
