import { describe, expect, it } from 'vitest';
import { StepwiseError } from '../../src/errors.js';
import { compileExpression, compileMapping, evaluateExpression, evaluateMapping, type Scope } from '../../src/expr/index.js';

const scope: Scope = {
  input: { name: 'x', items: [{ id: 1 }], nested: { deep: { value: 1 } } },
  steps: { x: { output: { total: 1 } } },
};
const evaluate = (text: string, limits = {}) => evaluateExpression(compileExpression(text, limits), scope);

describe('prototype access', () => {
  it.each([
    '$input.constructor',
    '$input.__proto__',
    '$input.`__proto__`',
    '$input.`constructor`.`prototype`',
    '$input.nested.deep.constructor',
    '$steps.x.constructor.constructor',
    '$input.items.constructor',
    '$input.name.constructor',
    '$input.name.length',
    '$.constructor',
    '$lookup($input, "constructor")',
    '$lookup($input, "__proto__")',
    '$input.toString',
    '$input.hasOwnProperty',
    '$keys($input.__proto__)',
    '$input.*.constructor',
    '$input.**.constructor',
  ])('%s yields nothing', async (text) => {
    expect(await evaluate(text)).toBeUndefined();
  });

  it('cannot reach the Function constructor to run code', async () => {
    const globals = globalThis as Record<string, unknown>;
    expect(await evaluate('$steps.x.constructor.constructor("globalThis.pwned = 1")()')).toBeUndefined();
    expect(await evaluate('$input.constructor.constructor("globalThis.pwned = 1")()')).toBeUndefined();
    expect(globals['pwned']).toBeUndefined();
    await expect(evaluate('$string.constructor("globalThis.pwned = 1")()')).rejects.toBeInstanceOf(StepwiseError);
    expect(globals['pwned']).toBeUndefined();
  });

  it('does not pollute Object.prototype', async () => {
    await evaluate('{ "__proto__": { "polluted": true } }');
    await evaluate('$merge([{ "__proto__": { "polluted": true } }])');
    await evaluateMapping(compileMapping(JSON.parse('{"__proto__": {"polluted": "{% true %}"}}')), scope);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('leaves the scope unchanged', async () => {
    const before = structuredClone(scope);
    await evaluate('$input.items ~> | $ | { "id": 2 } |');
    await evaluate('$append($input.items, [3])');
    await evaluate('$sort($input.items, function($a, $b) { $a.id > $b.id })');
    expect(scope).toEqual(before);
  });
});

describe('limits', () => {
  // The limits end the evaluation: their messages prove which one did. No elapsed-time bound: a loaded machine may be slow.
  it('stop infinite recursion at the time limit', async () => {
    await expect(evaluate('( $f := function($n){ $f($n+1) }; $f(0) )')).rejects.toMatchObject({
      code: 'expression_failed',
      message: expect.stringMatching(/longer than the limit of 200 ms/),
    });
  });

  it('stop deep non-tail recursion by depth', async () => {
    await expect(evaluate('( $f := function($n){ 1 + $f($n+1) }; $f(0) )')).rejects.toThrow(
      /deeper than the limit of 1000/,
    );
  });

  it('hold inside $eval', async () => {
    await expect(evaluate('$eval("( $f := function($n){ $f($n+1) }; $f(0) )")', { timeoutMs: 50 })).rejects.toThrow(
      /longer than the limit of 50 ms/,
    );
  });

  it('honour custom limits', async () => {
    await expect(evaluate('( $f := function($n){ $n < 100 ? 1 + $f($n+1) : 0 }; $f(0) )', { maxDepth: 50 })).rejects.toThrow(
      /deeper than the limit of 50/,
    );
    expect(await evaluate('( $f := function($n){ $n < 100 ? 1 + $f($n+1) : 0 }; $f(0) )')).toBe(100);
  });

  it('reject a result larger than 1 MB', async () => {
    await expect(evaluate('$pad("", 1100000, "x")')).rejects.toMatchObject({
      code: 'expression_failed',
      message: expect.stringMatching(/1100002 bytes of JSON, more than the limit of 1000000/),
    });
    await expect(evaluate('[1..300000]')).rejects.toMatchObject({
      code: 'expression_failed',
      message: expect.stringMatching(/more than the limit of 1000000/),
    });
    expect(await evaluate('$pad("", 1000, "x")', { maxResultBytes: 2000 })).toHaveLength(1000);
    await expect(evaluate('$pad("", 1000, "é")', { maxResultBytes: 1500 })).rejects.toThrow(/2002 bytes/);
  });

  it('compile the same text once', () => {
    expect(compileExpression(' $input.name ').evaluator).toBe(compileExpression('$input.name').evaluator);
    expect(compileExpression('$input.name', { timeoutMs: 10 }).evaluator).not.toBe(compileExpression('$input.name').evaluator);
  });
});
