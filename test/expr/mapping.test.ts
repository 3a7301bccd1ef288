import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StepwiseError } from '../../src/errors.js';
import { compileMapping, evaluateMapping, expressionIssues, type Scope } from '../../src/expr/index.js';

const scope: Scope = {
  input: { document: 'INV-1', total: 12.5, tags: ['a', 'b'] },
  steps: { extract: { output: { vendorId: 'v-42', total: 20000, lines: [{ sku: 'x', qty: 2 }] } } },
  event: { type: 'APPROVE', by: 'ann' },
  run: { id: 'r1' },
};

const evaluate = (value: unknown) => evaluateMapping(compileMapping(value), scope);

describe('whole-string expressions', () => {
  it('take the value of the expression, of any JSON type', async () => {
    expect(await evaluate('{% $input.total %}')).toBe(12.5);
    expect(await evaluate('  {%$input.document%}  ')).toBe('INV-1');
    expect(await evaluate('{% $steps.extract.output %}')).toEqual(scope.steps['extract'] && { vendorId: 'v-42', total: 20000, lines: [{ sku: 'x', qty: 2 }] });
    expect(await evaluate('{% $input.tags %}')).toEqual(['a', 'b']);
    expect(await evaluate('{% $input.total > 10 %}')).toBe(true);
    expect(await evaluate('{% null %}')).toBeNull();
    expect(await evaluate('{% $input.missing %}')).toBeUndefined();
  });

  it('see $event, $run and the context $', async () => {
    expect(await evaluate('{% $event.by & "/" & $run.id %}')).toBe('ann/r1');
    expect(await evaluate('{% input.document %}')).toBe('INV-1');
    expect(await evaluate('{% $.steps.extract.output.vendorId %}')).toBe('v-42');
  });

  it('return plain arrays, not JSONata sequences, and drop functions', async () => {
    const lines = await evaluate('{% $steps.extract.output.lines.sku %}');
    expect(lines).toBe('x');
    const tags = await evaluate('{% $input.tags.$uppercase($) %}');
    expect(tags).toEqual(['A', 'B']);
    expect(Object.keys(tags as object)).toEqual(['0', '1']);
    expect(await evaluate('{% function($x) { $x } %}')).toBeUndefined();
    expect(await evaluate('{% { "f": function($x) { $x }, "n": 1 } %}')).toEqual({ n: 1 });
  });
});

describe('templates', () => {
  it('interpolate each part', async () => {
    expect(await evaluate('Invoice {% $input.document %} from {% $steps.extract.output.vendorId %}.')).toBe(
      'Invoice INV-1 from v-42.',
    );
  });

  it('render objects as JSON, nothing as empty and scalars as text', async () => {
    expect(await evaluate('lines={% $steps.extract.output.lines %}')).toBe('lines=[{"sku":"x","qty":2}]');
    expect(await evaluate('[{% $input.missing %}]')).toBe('[]');
    expect(await evaluate('{% $input.total %} / {% true %} / {% null %}')).toBe('12.5 / true / null');
  });

  it('leave strings without {% alone', async () => {
    expect(await evaluate('100% sure, {literally}')).toBe('100% sure, {literally}');
  });
});

describe('nested mappings', () => {
  it('map objects and arrays recursively and pass other values through', async () => {
    const value = {
      vendor: '{% $steps.extract.output.vendorId %}',
      fixed: { n: 1, ok: true, none: null, list: [1, 'two'] },
      items: ['{% $input.tags[0] %}', { deep: 'x-{% $input.tags[1] %}' }, 3],
    };
    expect(await evaluate(value)).toEqual({
      vendor: 'v-42',
      fixed: { n: 1, ok: true, none: null, list: [1, 'two'] },
      items: ['a', { deep: 'x-b' }, 3],
    });
  });

  it('returns fresh copies of constants', async () => {
    const mapping = compileMapping({ a: { b: 1 } });
    const first = (await evaluateMapping(mapping, scope)) as { a: { b: number } };
    first.a.b = 2;
    expect(await evaluateMapping(mapping, scope)).toEqual({ a: { b: 1 } });
  });

  it('keeps a "__proto__" key as data', async () => {
    const value = JSON.parse('{"__proto__": {"x": "{% $input.document %}"}}') as unknown;
    const result = (await evaluate(value)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toEqual({ x: 'INV-1' });
  });
});

describe('syntax errors', () => {
  it('throw expression_failed naming the expression, position and path', () => {
    let error: unknown;
    try {
      compileMapping({ with: { vendorId: '{% $steps.extract.output.vendorId + %}' } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StepwiseError);
    expect((error as StepwiseError).code).toBe('expression_failed');
    expect((error as StepwiseError).message).toMatch(/`\$steps\.extract\.output\.vendorId \+`/);
    expect((error as StepwiseError).message).toMatch(/at position \d+/);
    expect((error as StepwiseError).message).toMatch(/at with\.vendorId/);
  });

  it('are listed by expressionIssues with their paths, without evaluating', () => {
    const issues = expressionIssues({
      ok: '{% $input.a %}',
      steps: [{ when: '{% $input.total > %}' }, 'text {% $input.x', '{%   %}'],
      loop: '{% ( $f := function($n){ $f($n+1) }; $f(0) ) %}',
    });
    expect(issues.map((issue) => issue.path)).toEqual([
      ['steps', 0, 'when'],
      ['steps', 1],
      ['steps', 2],
    ]);
    expect(issues[0]?.message).toMatch(/Syntax error in expression `\$input\.total >` at position/);
    expect(issues[1]?.message).toMatch(/not closed/);
    expect(issues[2]?.message).toMatch(/Empty expression/);
  });

  it('fail on a result that is not a JSON number (NaN, an infinity), at the top or inside, naming the path', async () => {
    // JSON would write them as null: a tool would be handed null for an amount, silently.
    await expect(evaluate({ avg: '{% $sum([]) / $count([]) %}' })).rejects.toThrow(/produced NaN, which is not a JSON number.* at avg/);
    await expect(evaluate({ a: ['{% 1/0 %}'] })).rejects.toThrow(/produced Infinity.* at a\[0\]/);
    await expect(evaluate('{% { "n": -1/0 } %}')).rejects.toThrow(/produced -Infinity/);
    await expect(evaluate('avg={% 0/0 %}')).rejects.toThrow(/produced NaN/);
    expect(await evaluate('{% 0 * -1 %}')).toBe(0);
  });

  it('name the path of a failing evaluation', async () => {
    await expect(evaluate({ a: ['{% $number("x") %}'] })).rejects.toThrow(/`\$number\("x"\)` failed: .* at a\[0\]/);
  });
});

describe('mappings of plain lookups (read without the evaluator)', () => {
  // Finite numbers: run data is read from JSON, which holds no other (a result that is not finite fails, below).
  const leaf = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
  const json = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 3 }),
    object: fc.dictionary(fc.constantFrom('a', 'b', '__proto__'), tie('value'), { maxKeys: 3 }),
  })).value;
  const shape = (wrap: (path: string) => string) => ({
    a: `{% ${wrap('$input.a')} %}`,
    text: `a={% ${wrap('$input.a')} %}, b={% ${wrap('$input.b.a')} %}`,
    list: [`{% ${wrap('$input.b')} %}`, { fixed: [1, 'two'] }],
    ['__proto__']: `{% ${wrap('$steps.s.output')} %}`,
  });

  it('give what JSONata gives for the same mapping', async () => {
    await fc.assert(
      fc.asyncProperty(json, json, json, async (a, b, output) => {
        const data: Scope = { input: { a, b }, steps: { s: { output } } };
        const plain = compileMapping(JSON.parse(JSON.stringify(shape((path) => path))));
        // A block around the same path is evaluated by JSONata itself.
        const evaluated = compileMapping(JSON.parse(JSON.stringify(shape((path) => `(${path})`))));
        expect(JSON.stringify(await evaluateMapping(plain, data))).toBe(JSON.stringify(await evaluateMapping(evaluated, data)));
      }),
      { numRuns: 500 },
    );
  });

  it('report a result past the size limit with its path, as any expression does', async () => {
    const mapping = compileMapping({ big: { blob: '{% $input.blob %}' } }, { maxResultBytes: 64 });
    await expect(evaluateMapping(mapping, { input: { blob: 'x'.repeat(100) }, steps: {} })).rejects.toThrow(/more than the limit of 64.* at big\.blob/);
  });
});
