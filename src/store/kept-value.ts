/**
 * A value the memory store keeps as it was committed, and gives back as its
 * JSON text would read (a fresh copy that follows JSON's rules), the text made
 * only when the value is read. The engine's snapshots and journal entries are
 * never changed once made (a step's result, a trail entry and an output are
 * replaced, not edited; what callers hand in, a run's input and an event's
 * data, is copied at the engine's edge), so the text a read makes is the text
 * the commit would have made: most runs are written step after step and read
 * rarely, and their JSON is made once at most instead of at every commit.
 *
 * The test suite holds the engine to that: with `STEPWISE_VERIFY_MEMORY_STORE=1`
 * the text is made at the commit too, and every read (and the store's next
 * commit to the run) checks that the value still gives it; a committed value
 * changed afterwards fails with {@link KeptValueChangedError}.
 */

/** Whether kept values are checked ({@link keep}'s `verify`): the test suite sets it. */
export const verifyKeptValues = (): boolean => process.env['STEPWISE_VERIFY_MEMORY_STORE'] === '1';

export interface Kept<T> {
  readonly value: T;
  /** The value's text at its commit when verifying; otherwise made at its first read and kept for the next ones. */
  text: string | undefined;
  /** Whether `text` was made at the commit, for reads to check the value against. */
  readonly verified: boolean;
}

export class KeptValueChangedError extends Error {
  constructor(what: string) {
    super(`memory store: ${what} changed after it was committed (a committed value must never be edited)`);
    this.name = 'KeptValueChangedError';
  }
}

/** Keeps `value`; `textOf` is how it is written as JSON (made now only when verifying). */
export function keep<T>(value: T, textOf: (value: T) => string, verify: boolean): Kept<T> {
  return { value, text: verify ? textOf(value) : undefined, verified: verify };
}

/**
 * The kept value's text. Verifying, it is made afresh at every read and checked against the text made at the commit;
 * otherwise it is made at the first read and kept (the value never changes), so a value read again (a map's items,
 * read by their map step) is only parsed.
 */
export function keptText<T>(kept: Kept<T>, textOf: (value: T) => string, what: () => string): string {
  if (!kept.verified) return (kept.text ??= textOf(kept.value));
  const text = textOf(kept.value);
  if (kept.text !== text) throw new KeptValueChangedError(what());
  return text;
}
