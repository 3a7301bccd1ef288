/**
 * The lookup fast path gives JSONata's own answer: for random scopes and
 * random plain paths, evaluating through `evaluateExpression` (fast path on)
 * equals jsonata's evaluator run directly (no fast path).
 */
import fc from 'fast-check';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { compileExpression, evaluateExpression } from '../../src/expr/expression.js';
import { lookupOf } from '../../src/expr/lookup.js';

const names = ['a', 'b', 'output', 'x y', 'constructor', '__proto__', 'length', '0'];
const leaf = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean(), fc.constant(null));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 3 }),
  object: fc.dictionary(fc.constantFrom(...names), tie('value'), { maxKeys: 4 }),
})).value;

const quote = (name: string) => (/^[A-Za-z_]\w*$/.test(name) ? name : `\`${name}\``);

describe('plain lookups read without the evaluator', () => {
  it('recognises lookups and nothing more', () => {
    expect(lookupOf(jsonata('$steps.s1.output.vendorId').ast())).toEqual({ variable: 'steps', names: ['s1', 'output', 'vendorId'] });
    expect(lookupOf(jsonata('$input').ast())).toEqual({ variable: 'input', names: [] });
    expect(lookupOf(jsonata('$input.`a b`').ast())).toEqual({ variable: 'input', names: ['a b'] });
    for (const other of ['$input.a[0]', '$input.a{"k": 1}', '$input.a.$string()', 'input.a', '$input.*', '$input.a ? 1 : 2', '$input.a^(b)', '$input.a#$i']) {
      expect(lookupOf(jsonata(other).ast()), other).toBeNull();
    }
  });

  it('gives what jsonata gives, for random data and paths', async () => {
    await fc.assert(
      fc.asyncProperty(json, json, fc.array(fc.constantFrom(...names), { maxLength: 4 }), fc.constantFrom('input', 'steps', 'event', 'nope'), async (input, steps, path, variable) => {
        const text = [`$${variable}`, ...path.map(quote)].join('.');
        const scope = { input, steps: steps as Record<string, unknown>, event: undefined, run: { id: 'r' } };
        const expected = await jsonata(text).evaluate(scope, scope);
        const actual = await evaluateExpression(compileExpression(text), scope);
        expect(compileExpression(text).lookup).not.toBeNull();
        expect(actual).toEqual(expected === undefined ? undefined : JSON.parse(JSON.stringify(expected)));
      }),
      { numRuns: 2000 },
    );
  });
});
