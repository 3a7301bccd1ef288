import { describe, expect, it, vi } from 'vitest';
import { StepwiseError } from '../../src/errors.js';
import {
  compileExpression,
  compileMapping,
  evaluateCondition,
  evaluateExpression,
  evaluateMapping,
  type ExpressionLimits,
  type Scope,
} from '../../src/expr/index.js';

const scope: Scope = {
  input: { name: 'x', items: [{ id: 1 }], nested: { deep: { value: 1 } } },
  steps: { x: { output: { total: 1 } } },
};
const evaluate = (text: string, limits: ExpressionLimits = {}) => evaluateExpression(compileExpression(text, limits), scope);

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
  it('stop infinite tail recursion by the step budget', async () => {
    await expect(evaluate('( $f := function($n){ $f($n+1) }; $f(0) )')).rejects.toMatchObject({
      code: 'expression_failed',
      message: expect.stringMatching(/more than the limit of 2000000 evaluation steps; check for an infinite loop/),
    });
  }, 120_000);

  it('stop a function that calls itself without arguments or base case', async () => {
    await expect(evaluate('( $f := function(){ $f() }; $f() )', { maxSteps: 100_000 })).rejects.toThrow(
      /more than the limit of 100000 evaluation steps/,
    );
  });

  it('stop deep non-tail recursion by depth', async () => {
    await expect(evaluate('( $f := function($n){ 1 + $f($n+1) }; $f(0) )')).rejects.toThrow(
      /deeper than the limit of 1000/,
    );
  });

  it('hold inside $eval', async () => {
    await expect(evaluate('$eval("( $f := function($n){ $f($n+1) }; $f(0) )")', { maxSteps: 50_000 })).rejects.toThrow(
      /more than the limit of 50000 evaluation steps/,
    );
    await expect(evaluate('$eval("$eval(\'( $f := function(){ $f() }; $f() )\')")', { maxSteps: 50_000 })).rejects.toThrow(
      /more than the limit of 50000 evaluation steps/,
    );
  });

  it('let timers and I/O run while a long evaluation goes on', async () => {
    let ticked = false;
    setImmediate(() => (ticked = true));
    const tickedBeforeTheEnd = evaluate('( $f := function(){ $f() }; $f() )', { maxSteps: 50_000 }).catch(() => ticked);
    expect(await tickedBeforeTheEnd).toBe(true);
  });

  it('count steps per evaluation, not per compiled expression', async () => {
    const compiled = compileExpression('$sum([1..100].($ * 2))', { maxSteps: 1000 });
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => evaluateExpression(compiled, scope)));
    expect(results).toEqual([10100, 10100, 10100, 10100, 10100]);
    await expect(evaluateExpression(compileExpression('$sum([1..1000].($ * 2))', { maxSteps: 1000 }), scope)).rejects.toThrow(
      /more than the limit of 1000 evaluation steps/,
    );
  });

  it('do not depend on time: a slow machine fails no correct expression', async () => {
    // Every read of the time sources jumps an hour ahead, as if each step waited on a loaded CPU.
    let now = Date.now();
    const ahead = () => (now += 3_600_000);
    const clocks = [vi.spyOn(Date, 'now').mockImplementation(ahead), vi.spyOn(performance, 'now').mockImplementation(ahead)];
    try {
      expect(await evaluate('$steps.x.output.total')).toBe(1);
      expect(await evaluateCondition('{% $steps.x.output.total = 1 %}', scope)).toBe(true);
      expect(await evaluateMapping(compileMapping({ n: '{% $input.name %}', s: 'sum {% $sum([1..20000].($ * 2)) %}' }), scope)).toEqual({
        n: 'x',
        s: 'sum 400020000',
      });
      expect(await evaluate('( $f := function($n){ $n < 500 ? $f($n+1) : $n }; $f(0) )', { timeoutMs: 1 })).toBe(500);
    } finally {
      for (const clock of clocks) clock.mockRestore();
    }
  });

  it('honour custom limits', async () => {
    await expect(evaluate('( $f := function($n){ $n < 100 ? 1 + $f($n+1) : 0 }; $f(0) )', { maxDepth: 50 })).rejects.toThrow(
      /deeper than the limit of 50/,
    );
    expect(await evaluate('( $f := function($n){ $n < 100 ? 1 + $f($n+1) : 0 }; $f(0) )')).toBe(100);
    await expect(evaluate('[1..100].($ * 2)', { maxSteps: 100 })).rejects.toThrow(/more than the limit of 100 evaluation steps/);
    expect(await evaluate('[1..100].($ * 2)', { maxSteps: 1000 })).toHaveLength(100);
  });

  it('reject a result larger than 4 MiB (a step output\'s cap)', async () => {
    await expect(evaluate('$pad("", 4200000, "x")')).rejects.toMatchObject({
      code: 'expression_failed',
      message: expect.stringMatching(/4200002 bytes of JSON, more than the limit of 4194304/),
    });
    expect(await evaluate('$pad("", 4000000, "x")')).toHaveLength(4000000);
    await expect(evaluate('[1..700000]')).rejects.toMatchObject({
      code: 'expression_failed',
      message: expect.stringMatching(/more than the limit of 4194304/),
    });
    expect(await evaluate('$pad("", 1000, "x")', { maxResultBytes: 2000 })).toHaveLength(1000);
    await expect(evaluate('$pad("", 1000, "é")', { maxResultBytes: 1500 })).rejects.toThrow(/2002 bytes/);
  });

  it('compile the same text once', () => {
    expect(compileExpression(' $input.name ').evaluator).toBe(compileExpression('$input.name').evaluator);
    expect(compileExpression('$input.name', { maxSteps: 10 }).evaluator).not.toBe(compileExpression('$input.name').evaluator);
  });
});

describe('built-ins that JSONata implements in quadratic time', () => {
  // No step is counted inside a native built-in, so the step budget cannot stop these: before, `$sort` of
  // 300,000 numbers sliced its way to a 4 GB heap and crashed the process, `$distinct` of 100,000 made 5e9
  // comparisons. The budget below only guards a hang; it is no measure of speed.
  const big = { input: { n: Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 300_000), s: Array.from({ length: 100_000 }, (_, i) => `v${i % 50_000}`) }, steps: {} };

  it('$sort of 300,000 numbers, and of 20,000 with a comparator, sorts in n log n', async () => {
    const sorted = (await evaluateExpression(compileExpression('$sort($input.n)'), big)) as number[];
    expect(sorted).toHaveLength(300_000);
    expect(sorted.every((v, i) => v === i)).toBe(true);
    const desc = (await evaluateExpression(compileExpression('$sort($input.n[$ < 20000], function($a, $b){ $a < $b })', { maxSteps: 50_000_000 }), big)) as number[];
    expect(desc[0]).toBe(19_999);
    expect(desc.at(-1)).toBe(0);
  }, 300_000);

  it('$distinct of 100,000 values keeps the first of each, in order, in linear time', async () => {
    const kept = (await evaluateExpression(compileExpression('$distinct($input.s)'), big)) as string[];
    expect(kept).toHaveLength(50_000);
    expect(kept.slice(0, 3)).toEqual(['v0', 'v1', 'v2']);
  }, 300_000);

  it('keep JSONata\'s results: stability, deep equality with any key order, sequences, errors', async () => {
    const data = { input: { people: [{ n: 'b', a: 2 }, { n: 'a', a: 1 }, { n: 'c', a: 2 }, { n: 'd', a: 1 }] }, steps: {} };
    const byAge = await evaluateExpression(compileExpression('$sort($input.people, function($x, $y){ $x.a > $y.a }).n'), data);
    expect(byAge).toEqual(['a', 'd', 'b', 'c']);
    expect(await evaluateExpression(compileExpression('$sort(["b", "a", "c"])'), data)).toEqual(['a', 'b', 'c']);
    expect(await evaluateExpression(compileExpression('$distinct([{"x": 1, "y": [1, 2]}, {"y": [1, 2], "x": 1}, {"x": "1"}, 1, "1", 1])'), data)).toEqual([{ x: 1, y: [1, 2] }, { x: '1' }, 1, '1']);
    expect(await evaluateExpression(compileExpression('$distinct($input.people.a)'), data)).toEqual([2, 1]);
    expect(await evaluateExpression(compileExpression('$sort(5)'), data)).toEqual([5]);
    expect(await evaluateExpression(compileExpression('$distinct(5)'), data)).toBe(5);
    await expect(evaluateExpression(compileExpression('$sort([1, "a"])'), data)).rejects.toThrow(/single argument form of the sort function/);
    await expect(evaluate('$sort([3, 1, 2], function($a, $b){ $a > $b ? ( $f := function(){ $f() }; $f() ) : false })', { maxSteps: 10_000 })).rejects.toThrow(/evaluation steps/);
  });
});


describe('order-by', () => {
  it('rejects ^( ) at compile time, pointing to $sort (its JSONata sort needs quadratic memory and escapes the step budget)', () => {
    expect(() => compileExpression('[1..100000]^(>$)')).toThrow(/order-by operator \^\( \) is not supported.*\$sort/);
    expect(() => compileExpression('$input.items^(price).name')).toThrow(/order-by/);
  });

  it('$sort with a comparator sorts large arrays within the budget', async () => {
    const sorted = (await evaluate('$sort([1..20000], function($a, $b) { $a < $b })')) as number[];
    expect(sorted[0]).toBe(20000);
    expect(sorted).toHaveLength(20000);
  }, 120_000);
});
