/**
 * A commit's snapshot sent as edits of the one it replaces: a run's snapshot
 * holds every step result so far, so each commit would send them all again
 * (about 9 KB a step in the bench, growing with the run). The server keeps
 * the text of a `json` column as written, so a commit that knows the text it
 * wrote last (at the revision it expects) sends the unchanged pieces
 * (./json-text.ts, one per step result) as (position, length) copies of the
 * stored text, and only the rest as text. A new step's output is copied too,
 * from the text of the journal entry the same commit appends (which holds
 * it): the snapshot and the journal no longer each carry it over the wire.
 * The server checks the stored text is the one the edits were made from: a
 * run id used again after a prune may be at that revision with other text.
 */
import { createHash } from 'node:crypto';
import { BoundedMap } from '../util/bounded-map.js';

/**
 * Edits in order: a copy of `len` characters from `pos` (1-based) of source `src` (0 the stored text, i the
 * payload text of the commit's i-th journal entry), or `lit` as is. `base` is the MD5 (hex) of the stored text
 * the copies from source 0 apply to (null when none does), which the server checks: the same revision of a run id
 * may hold other text (the run pruned and made again under its id by another store, and brought to that revision).
 */
export interface SnapshotDelta {
  readonly base: string | null;
  readonly src: Array<number | null>;
  readonly pos: Array<number | null>;
  readonly len: Array<number | null>;
  readonly lit: Array<string | null>;
}

/** A piece shorter than this goes as text: a copy costs about as much on the wire. */
const MIN_COPY = 64;
/** JavaScript counts UTF-16 units, PostgreSQL characters: positions agree only without surrogate pairs. */
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * The edits that make the text of `pieces` from `previous` (null: not known) and the journal payload texts `sources`
 * (null for an entry without one), or null when nothing of it is worth copying.
 * @example
 * snapshotDelta(lastText, snapshotPieces(next), payloads); // { src: [null, 0, 1, null], pos: [null, 12, 11, null], … }
 */
export function snapshotDelta(previous: string | null, pieces: readonly string[], sources: ReadonlyArray<string | null> = []): SnapshotDelta | null {
  const texts = [previous, ...sources].map((text) => (text === null || SURROGATE.test(text) ? null : text));
  const delta: SnapshotDelta = { base: null, src: [], pos: [], len: [], lit: [] };
  let literal = '';
  let copied = 0;
  const flush = () => {
    if (literal === '') return;
    delta.src.push(null);
    delta.pos.push(null);
    delta.len.push(null);
    delta.lit.push(literal);
    literal = '';
  };
  for (const piece of pieces) {
    let src = -1;
    let at = -1;
    if (piece.length >= MIN_COPY) {
      for (let i = 0; i < texts.length && at < 0; i++) {
        at = texts[i]?.indexOf(piece) ?? -1;
        src = i;
      }
    }
    if (at < 0) {
      literal += piece;
      continue;
    }
    copied += piece.length;
    const last = delta.pos.length - 1;
    // A copy that goes on where the last one of the same source ended extends it.
    if (literal === '' && last >= 0 && delta.src[last] === src && (delta.pos[last] as number) + (delta.len[last] as number) === at + 1) {
      delta.len[last] = (delta.len[last] as number) + piece.length;
      continue;
    }
    flush();
    delta.src.push(src);
    delta.pos.push(at + 1);
    delta.len.push(piece.length);
    delta.lit.push(null);
  }
  flush();
  if (copied === 0) return null;
  return previous !== null && delta.src.includes(0) ? { ...delta, base: createHash('md5').update(previous).digest('hex') } : delta;
}

/** The delta as one JSON array (for a group commit's records): `[src, pos, len]` for a copy, a string for text. */
export function deltaJson(delta: SnapshotDelta): Array<string | readonly [number, number, number]> {
  return delta.lit.map((lit, i) => lit ?? ([delta.src[i] as number, delta.pos[i] as number, delta.len[i] as number] as const));
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
  const texts = new BoundedMap<string, { revision: number; text: string }>(max);
  return {
    get: (runId) => texts.get(runId),
    set(runId, revision, text) {
      texts.set(runId, { revision, text });
    },
    forget(runId) {
      texts.delete(runId);
    },
  };
}
