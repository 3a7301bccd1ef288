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
  context: fc.record({ input: json, steps: fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(result, leaf)), trail: fc.array(json, { maxLength: 2 }), active: fc.dictionary(fc.string({ maxLength: 3 }), json, { maxKeys: 2 }) }),
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

  it('follow trail entries and active steps that are replaced, keeping the ones that are not', () => {
    const entry = (id: string, status: string) => ({ id, visit: 1, status, attempts: 1, tokens: 0, startedAt: 1, endedAt: null });
    const first = { status: 'active', value: 'b', context: { input: {}, steps: {}, trail: [entry('a', 'done'), entry('b', 'running')], active: { b: { attempt: 1, retryAt: null } }, visits: { a: 1, b: 1 } } };
    expect(snapshotText(first)).toBe(JSON.stringify(first));
    const trail = [first.context.trail[0]!, { ...first.context.trail[1]!, status: 'done', endedAt: 2 }];
    const later = { ...first, context: { ...first.context, trail, active: { ...first.context.active, b: { attempt: 2, retryAt: 5 } }, visits: { ...first.context.visits, b: 2 } } };
    expect(snapshotText(later)).toBe(JSON.stringify(later));
    expect(snapshotText(first)).toBe(JSON.stringify(first));
  });

  it('write members with their own toJSON, boxed values and class instances in a context as JSON.stringify does', () => {
    class Point {
      constructor(readonly x: number) {}
    }
    const input = { at: new Date(0), n: new Number(3), s: Object('x'), p: new Point(1), list: [new Date(1), undefined, () => 1, { toJSON: (key: string) => `item ${key}` }] };
    const trail = [{ id: 'a', when: { toJSON: (key: string) => `member ${key}` } }];
    const snapshot = { status: 'active', value: 'a', context: { input, steps: { a: { output: new Point(2), status: 'done' } }, trail, when: { toJSON: (key: string) => key } }, children: {} };
    expect(snapshotText(snapshot)).toBe(JSON.stringify(snapshot));
    expect(snapshotText(snapshot)).toBe(JSON.stringify(snapshot));
  });

  it('with a reference function, write the outputs it places elsewhere as $outputSeq where the output was, the rest as JSON.stringify does', () => {
    fc.assert(
      fc.property(snapshot, fc.nat(1000), (s, base) => {
        const seqs = new Map<object, number>();
        const ref = (output: object) => (Object.keys(output).length % 2 === 0 ? (seqs.get(output) ?? seqs.set(output, base + seqs.size).get(output)) : undefined);
        const expected = JSON.parse(JSON.stringify(s)) as { context?: { steps?: Record<string, Record<string, unknown>> } };
        for (const [id, result] of Object.entries(s.context.steps)) {
          const output = typeof result === 'object' && result !== null ? (result as { output?: unknown }).output : undefined;
          const seq = typeof output === 'object' && output !== null ? ref(output) : undefined;
          if (seq === undefined) continue;
          const stored = expected.context!.steps![id]!;
          expected.context!.steps![id] = Object.fromEntries(Object.entries(stored).map(([k, v]) => (k === 'output' ? ['$outputSeq', seq] : [k, v])));
        }
        expect(snapshotText(s, ref)).toBe(JSON.stringify(expected));
        expect(snapshotText(s, ref)).toBe(JSON.stringify(expected));
        expect(snapshotText(s)).toBe(JSON.stringify(s));
      }),
      { numRuns: 500 },
    );
  });

  it('write what is not a snapshot as JSON.stringify does', () => {
    for (const value of [undefined, null, 3, 'x', [1], { context: 1 }, { context: { steps: [1] } }, { toJSON: () => 'j' }]) {
      expect(snapshotText(value)).toBe(JSON.stringify(value) ?? 'null');
    }
  });
});
