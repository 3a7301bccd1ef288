/**
 * The message of anything thrown. Code the engine runs (tools, tool modules, hooks) may throw what is not an
 * Error, and `String()` itself throws for some of it (an object whose `toString` is not a function, an object with
 * no prototype): such a value is described by its JSON text, else by its tag, never by a second exception.
 *
 * @example
 * messageOf(new Error('boom')); // 'boom'
 * messageOf({ toString: 5, weird: true }); // '{"toString":5,"weird":true}'
 */
export function messageOf(error: unknown): string {
  if (error instanceof Error && typeof error.message === 'string') return error.message;
  try {
    return String(error);
  } catch {
    try {
      const json = JSON.stringify(error);
      if (typeof json === 'string') return json;
    } catch {
      // Fall through to the tag.
    }
    return Object.prototype.toString.call(error);
  }
}
