import { describe, expect, it } from 'vitest';
import { snapshotPieces, snapshotText } from '../../src/store/json-text.js';
import { deltaJson, snapshotDelta } from '../../src/store/snapshot-delta.js';

/** What the server does with the edits: copies of the stored text (1-based positions) and text as is. */
const apply = (stored: string, delta: NonNullable<ReturnType<typeof snapshotDelta>>) =>
  delta.lit.map((lit, i) => lit ?? (delta.src[i] === 0 ? stored : '').substr((delta.pos[i] as number) - 1, delta.len[i] as number)).join('');

describe('snapshot edits', () => {
  const out = (n: number) => ({ output: { text: `result ${n} `.repeat(20) }, status: 'done' });
  const snap = (n: number) => ({ value: `s${n + 1}`, context: { steps: Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i + 1}`, out(i + 1)])), visits: { n } } });

  it('copies the step results the stored text has, one copy for those that follow each other, and rebuilds the exact text', () => {
    const stored = snapshotText(snap(3));
    const pieces = snapshotPieces(snap(4));
    expect(pieces.join('')).toBe(JSON.stringify(snap(4)));
    const delta = snapshotDelta(stored, pieces)!;
    expect(apply(stored, delta)).toBe(JSON.stringify(snap(4)));
    expect(delta.len.filter((l) => l !== null)).toHaveLength(3); // s1, s2, s3: each a copy (their keys sit between them)
    expect(deltaJson(delta).filter((e) => typeof e === 'string').join('')).toContain('result 4');
  });

  it('copies a new step\'s output from the payload of the journal entry the same commit appends', () => {
    const stored = snapshotText(snap(3));
    const payload = JSON.stringify({ output: out(4).output });
    const delta = snapshotDelta(stored, snapshotPieces(snap(4)), [null, payload])!;
    expect(delta.lit.filter((l) => l !== null).join('')).not.toContain('result 4');
    expect(delta.src).toContain(2); // the second entry's payload
    const sources = [stored, '', payload];
    expect(delta.lit.map((lit, i) => lit ?? sources[delta.src[i] as number]!.substr((delta.pos[i] as number) - 1, delta.len[i] as number)).join('')).toBe(JSON.stringify(snap(4)));
    // Without the stored text, the output still comes from the payload.
    expect(snapshotDelta(null, snapshotPieces(snap(4)), [payload])?.src).toContain(1);
  });

  it('sends everything when the stored text has characters JavaScript and PostgreSQL count differently, or nothing to copy', () => {
    const emoji = { ...snap(2), value: '😀' };
    expect(snapshotDelta(snapshotText(emoji), snapshotPieces(snap(3)))).toBeNull();
    expect(snapshotDelta('{}', snapshotPieces(snap(3)))).toBeNull();
  });
});
