/**
 * The JSON text the stores write at every commit, reusing the text of the
 * parts that never change once made. A run's snapshot holds the result of
 * every step so far (`context.steps`), and each step's output is journaled
 * beside it: serialised afresh at each commit, a run of n steps would write
 * its first output n + 1 times. Step results and outputs are replaced, never
 * changed, by the machine's actions, so the text of each object is kept (by
 * identity, while the object lives) and spliced into the next commit's text.
 * The result is the very text `JSON.stringify` gives.
 */
import { randomUUID } from 'node:crypto';

/** Text of objects serialised before, by identity. */
const texts = new WeakMap<object, string>();

/** A placeholder no value can hold by chance, and its JSON text. */
const MARKER = `\u0000stepwise:${randomUUID()}`;
const MARKER_JSON = JSON.stringify(MARKER);

type Fields = Readonly<Record<string, unknown>>;

const isFields = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';

/** JSON text of `value` (`null` for `undefined`). */
function plainText(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** `JSON.stringify(value)` of a value that will not change, remembered for the next call with the same object. */
function keptText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return plainText(value);
  let text = texts.get(value);
  if (text === undefined) {
    text = plainText(value);
    texts.set(value, text);
  }
  return text;
}

/** `JSON.stringify(fields)` with the value at `key` written as `text` (when that value is JSON at all). */
function withPart(fields: Fields, key: string, text: (value: unknown) => string): string {
  return withPartPieces(fields, key, (value) => [text(value)]).join('');
}

/** {@link withPart} as pieces whose concatenation is the text: the value's pieces between the text before and after it. */
function withPartPieces(fields: Fields, key: string, pieces: (value: unknown) => string[]): string[] {
  const value = fields[key];
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return [plainText(fields)];
  const outer = plainText({ ...fields, [key]: MARKER });
  const at = outer.indexOf(MARKER_JSON);
  return [outer.slice(0, at), ...pieces(value), outer.slice(at + MARKER_JSON.length)];
}

/** Pieces of step results, by identity: the text around the output, and the output's (which the step's journal entry holds too). */
const resultPieces = new WeakMap<object, readonly string[]>();

/** A step result as pieces: before its output, the output, after it (or the whole, without an output). */
function stepResultPieces(result: unknown): readonly string[] {
  if (!isFields(result)) return [plainText(result)];
  let pieces = resultPieces.get(result);
  if (pieces === undefined) {
    pieces = withPartPieces(result, 'output', (output) => [keptText(output)]);
    resultPieces.set(result, pieces);
  }
  return pieces;
}

/** The text of a run's step results, `context.steps`, as pieces: each result's pieces are kept. */
function stepsPieces(steps: Fields): string[] {
  const pieces: string[] = [];
  let glue = '{';
  for (const id of Object.keys(steps)) {
    const result = steps[id];
    if (result === undefined || typeof result === 'function' || typeof result === 'symbol') continue;
    pieces.push(`${glue}${JSON.stringify(id)}:`, ...stepResultPieces(result));
    glue = ',';
  }
  pieces.push(glue === '{' ? '{}' : '}');
  return pieces;
}

/**
 * JSON text of a persisted machine snapshot, equal to `JSON.stringify`'s: the
 * text of each step result and output is reused from earlier commits.
 *
 * @example
 * ```ts
 * snapshotText(persistedSnapshot(actor)) === JSON.stringify(persistedSnapshot(actor)); // true, and cheaper each commit
 * ```
 */
export function snapshotText(snapshot: unknown): string {
  return snapshotPieces(snapshot).join('');
}

/**
 * {@link snapshotText} as pieces whose concatenation is the text, each step result a piece of its own: the pieces a
 * commit may find unchanged in the snapshot it replaces (./snapshot-delta.ts).
 */
export function snapshotPieces(snapshot: unknown): string[] {
  if (!isFields(snapshot) || !isFields(snapshot['context']) || !isFields(snapshot['context']['steps'])) return [plainText(snapshot)];
  return withPartPieces(snapshot, 'context', (context) => withPartPieces(context as Fields, 'steps', (steps) => stepsPieces(steps as Fields)));
}

/**
 * JSON text of a journal entry or its payload, equal to `JSON.stringify`'s:
 * the text of its `output` is reused when the snapshot already wrote it.
 */
export function entryText(entry: Fields): string {
  const output = entry['output'];
  const kept = typeof output === 'object' && output !== null && typeof (output as { toJSON?: unknown }).toJSON !== 'function';
  return kept && isFields(entry) ? withPart(entry, 'output', keptText) : plainText(entry);
}
