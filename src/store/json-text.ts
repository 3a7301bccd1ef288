/**
 * The JSON text the stores write at every commit, reusing the text of the
 * parts that never change once made. A run's snapshot holds the result of
 * every step so far (`context.steps`), and each step's output is journaled
 * beside it: serialised afresh at each commit, a run of n steps would write
 * its first output n + 1 times. Step results and outputs are replaced, never
 * changed, by the machine's actions, so the text of each object is kept (by
 * identity, while the object lives) and spliced into the next commit's text.
 * The result is the very text `JSON.stringify` gives, unless the caller
 * names outputs stored elsewhere (see {@link OutputRef}): each such output is
 * then written as a reference, `"$outputSeq":<seq>` in place of the step
 * result's `"output":…`.
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

/**
 * Where an output object is stored besides the snapshot: the journal entry (its
 * `seq`) of the same run that holds it, or undefined to write it in place.
 */
export type OutputRef = (output: object) => number | undefined;

/** The key a step result holds instead of `output` when its output is written by reference. */
export const OUTPUT_SEQ = '$outputSeq';
const OUTPUT_AT = `"output":${MARKER_JSON}`;

/** Texts of step results with their output by reference, and the seq each names. */
const refTexts = new WeakMap<object, { readonly seq: number; readonly text: string }>();

/** Pieces of step results, by identity: the text around the output, and the output's (which the step's journal entry holds too). */
const resultPieces = new WeakMap<object, readonly string[]>();

/**
 * A step result (`{ output, status, … }`) as pieces: before its output, the output, after it (or the whole,
 * without an output); with its output by reference (`ref`), one piece holding `"$outputSeq":<seq>`.
 */
function stepResultPieces(result: unknown, ref: OutputRef | undefined): readonly string[] {
  if (!isFields(result)) return [plainText(result)];
  const output = result['output'];
  const seq = ref !== undefined && typeof output === 'object' && output !== null ? ref(output) : undefined;
  if (seq !== undefined) {
    const kept = refTexts.get(result);
    if (kept?.seq === seq) return [kept.text];
    const outer = plainText({ ...result, output: MARKER });
    const at = outer.indexOf(OUTPUT_AT);
    const text = `${outer.slice(0, at)}${JSON.stringify(OUTPUT_SEQ)}:${seq}${outer.slice(at + OUTPUT_AT.length)}`;
    refTexts.set(result, { seq, text });
    return [text];
  }
  let pieces = resultPieces.get(result);
  if (pieces === undefined) {
    pieces = withPartPieces(result, 'output', (value) => [keptText(value)]);
    resultPieces.set(result, pieces);
  }
  return pieces;
}

/** The text of a run's step results, `context.steps`, as pieces: each result's pieces are kept. */
function stepsPieces(steps: Fields, ref: OutputRef | undefined): string[] {
  const pieces: string[] = [];
  let glue = '{';
  for (const id of Object.keys(steps)) {
    const result = steps[id];
    if (result === undefined || typeof result === 'function' || typeof result === 'symbol') continue;
    pieces.push(`${glue}${JSON.stringify(id)}:`, ...stepResultPieces(result, ref));
    glue = ',';
  }
  pieces.push(glue === '{' ? '{}' : '}');
  return pieces;
}

/**
 * JSON text of a persisted machine snapshot, equal to `JSON.stringify`'s: the
 * text of each step result and output is reused from earlier commits. With
 * `ref`, a step result whose output `ref` places elsewhere holds
 * `"$outputSeq":<seq>` instead of its output (see ./sqlite-outputs.ts).
 *
 * @example
 * ```ts
 * snapshotText(persistedSnapshot(actor)) === JSON.stringify(persistedSnapshot(actor)); // true, and cheaper each commit
 * ```
 */
export function snapshotText(snapshot: unknown, ref?: OutputRef): string {
  return snapshotPieces(snapshot, ref).join('');
}

/**
 * {@link snapshotText} as pieces whose concatenation is the text, each step result a piece of its own: the pieces a
 * commit may find unchanged in the snapshot it replaces (./snapshot-delta.ts).
 */
export function snapshotPieces(snapshot: unknown, ref?: OutputRef): string[] {
  if (!isFields(snapshot) || !isFields(snapshot['context']) || !isFields(snapshot['context']['steps'])) return [plainText(snapshot)];
  return withPartPieces(snapshot, 'context', (context) => withPartPieces(context as Fields, 'steps', (steps) => stepsPieces(steps as Fields, ref)));
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
