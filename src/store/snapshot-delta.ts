/**
 * A commit's snapshot sent as edits of the one it replaces: a run's snapshot
 * holds every step result so far, so each commit would send them all again
 * (about 9 KB a step in the bench, growing with the run). The server keeps
 * the text of a `json` column as written, so a commit that knows the text it
 * wrote last (at the revision it expects)
 * sends the unchanged pieces (./json-text.ts, one per step result) as
 * (position, length) copies of the stored text, and only the rest as text.
 * The server checks the stored text is the one the edits were made from: a
 * run id used again after a prune may be at that revision with other text.
 */
import { createHash } from 'node:crypto';

/**
 * Edits in order: a copy of `len` characters of the stored text from `pos` (1-based), or `lit` as is; `base` is the
 * MD5 (hex) of the text they apply to, which the server checks: the same revision of a run id may hold other text
 * (the run pruned and made again under its id by another store, and brought to that revision).
 */
export interface SnapshotDelta {
  readonly base: string;
  readonly pos: Array<number | null>;
  readonly len: Array<number | null>;
  readonly lit: Array<string | null>;
}

/** A piece shorter than this goes as text: a copy costs about as much on the wire. */
const MIN_COPY = 64;
/** JavaScript counts UTF-16 units, PostgreSQL characters: positions agree only without surrogate pairs. */
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * The edits that make the text of `pieces` from `previous`, or null when nothing of it is worth copying.
 * @example
 * snapshotDelta(lastText, snapshotPieces(next)); // { pos: [null, 12, null], len: [null, 4000, null], lit: ['{"value":"b",', null, '}'] }
 */
export function snapshotDelta(previous: string, pieces: readonly string[]): SnapshotDelta | null {
  if (SURROGATE.test(previous)) return null;
  const delta: SnapshotDelta = { base: '', pos: [], len: [], lit: [] };
  let literal = '';
  let copied = 0;
  const flush = () => {
    if (literal === '') return;
    delta.pos.push(null);
    delta.len.push(null);
    delta.lit.push(literal);
    literal = '';
  };
  for (const piece of pieces) {
    const at = piece.length >= MIN_COPY ? previous.indexOf(piece) : -1;
    if (at < 0) {
      literal += piece;
      continue;
    }
    copied += piece.length;
    const last = delta.pos.length - 1;
    // A copy that goes on where the last one ended extends it.
    if (literal === '' && last >= 0 && delta.pos[last] !== null && (delta.pos[last] as number) + (delta.len[last] as number) === at + 1) {
      delta.len[last] = (delta.len[last] as number) + piece.length;
      continue;
    }
    flush();
    delta.pos.push(at + 1);
    delta.len.push(piece.length);
    delta.lit.push(null);
  }
  flush();
  return copied > 0 ? { ...delta, base: createHash('md5').update(previous).digest('hex') } : null;
}

/** The delta's edits as one JSON array (for a group commit's records): `[pos, len]` for a copy, a string for text. */
export function deltaJson(delta: SnapshotDelta): Array<string | readonly [number, number]> {
  return delta.lit.map((lit, i) => lit ?? ([delta.pos[i] as number, delta.len[i] as number] as const));
}

/** The snapshot text a store wrote last per run, with the revision it made; bounded, the oldest forgotten first. */
export interface WrittenSnapshots {
  get(runId: string): { readonly revision: number; readonly text: string } | undefined;
  set(runId: string, revision: number, text: string): void;
  forget(runId: string): void;
}

/**
 * @example
 * const written = writtenSnapshots();
 * written.set(run.id, 3, text); // after the commit that made revision 3
 */
export function writtenSnapshots(max = 256): WrittenSnapshots {
  const texts = new Map<string, { revision: number; text: string }>();
  return {
    get: (runId) => texts.get(runId),
    set(runId, revision, text) {
      texts.delete(runId);
      texts.set(runId, { revision, text });
      if (texts.size > max) texts.delete(texts.keys().next().value as string);
    },
    forget(runId) {
      texts.delete(runId);
    },
  };
}
