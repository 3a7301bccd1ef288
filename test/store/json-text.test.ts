/**
 * The stores' JSON text reuses the text of step results and outputs serialised
 * at earlier commits; what they write must stay exactly `JSON.stringify`'s.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entryText, snapshotText } from '../../src/store/json-text.js';

const leaf = fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 3 }),
  object: fc.dictionary(fc.constantFrom('a', 'b', 'output', 'steps', '__proto__', '"q"'), tie('value'), { maxKeys: 3 }),
})).value;
const result = fc.record({ output: json, status: fc.constantFrom('done', 'failed'), visit: fc.nat(), attempts: fc.nat() }, { requiredKeys: ['status'] });
const snapshot = fc.record({
  status: fc.constant('active'),
  value: fc.oneof(fc.string(), fc.dictionary(fc.string(), fc.string())),
  context: fc.record({ input: json, steps: fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(result, leaf)), trail: fc.array(json, { maxLength: 2 }) }),
  children: fc.constant({}),
});

describe('snapshotText and entryText', () => {
  it('give the text JSON.stringify gives, again and again', () => {
    fc.assert(
      fc.property(snapshot, (s) => {
        expect(snapshotText(s)).toBe(JSON.stringify(s));
        expect(snapshotText(s)).toBe(JSON.stringify(s)); // from the kept texts
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(json, fc.dictionary(fc.string({ maxLength: 3 }), json), (output, rest) => {
        const entry = { ...rest, output };
        expect(entryText(entry)).toBe(JSON.stringify(entry));
        expect(entryText(entry)).toBe(JSON.stringify(entry));
      }),
      { numRuns: 1000 },
    );
  });

  it('reuse an output serialised for the snapshot in the journal entry, and follow results that are replaced', () => {
    const output = { rows: [{ ref: 'R-1', amt: 1.5 }], note: 'é"\n' };
    const first = { status: 'done', value: 'b', context: { input: {}, steps: { a: { output, status: 'done', visit: 1, attempts: 1 } } } };
    expect(snapshotText(first)).toBe(JSON.stringify(first));
    expect(entryText({ runId: 'r', seq: 2, event: 'completed', output })).toBe(JSON.stringify({ runId: 'r', seq: 2, event: 'completed', output }));
    const later = { ...first, context: { ...first.context, steps: { ...first.context.steps, a: { ...first.context.steps.a, visit: 2 }, b: { output: 'x', status: 'done' } } } };
    expect(snapshotText(later)).toBe(JSON.stringify(later));
  });

  it('write what is not a snapshot as JSON.stringify does', () => {
    for (const value of [undefined, null, 3, 'x', [1], { context: 1 }, { context: { steps: [1] } }, { toJSON: () => 'j' }]) {
      expect(snapshotText(value)).toBe(JSON.stringify(value) ?? 'null');
    }
  });
});
