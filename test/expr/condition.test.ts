import { describe, expect, it } from 'vitest';
import { evaluateCondition, type Scope } from '../../src/expr/index.js';

const scope = (total: unknown): Scope => ({ input: {}, steps: { extract: { output: { total } } } });

describe('evaluateCondition', () => {
  it('evaluates the design example both ways', async () => {
    const when = '{% $steps.extract.output.total > 10000 %}';
    expect(await evaluateCondition(when, scope(20000))).toBe(true);
    expect(await evaluateCondition(when, scope(10000))).toBe(false);
  });

  it('accepts expressions with or without {% %}', async () => {
    expect(await evaluateCondition('$steps.extract.output.total = 5', scope(5))).toBe(true);
    expect(await evaluateCondition('  {%$steps.extract.output.total = 5%} ', scope(6))).toBe(false);
  });

  it('rejects non-boolean results instead of using truthiness', async () => {
    await expect(evaluateCondition('$steps.extract.output.total', scope(1))).rejects.toMatchObject({
      code: 'expression_failed',
      message: expect.stringMatching(/`\$steps\.extract\.output\.total` must produce true or false but produced 1/),
    });
    await expect(evaluateCondition('{% $steps.extract.output.totl %}', scope(1))).rejects.toThrow(
      /produced nothing/,
    );
    await expect(evaluateCondition('"yes"', scope(1))).rejects.toThrow(/produced "yes"/);
  });

  it('reports syntax errors with the expression', async () => {
    await expect(evaluateCondition('$steps.extract.output.total >', scope(1))).rejects.toMatchObject({
      code: 'expression_failed',
      message: expect.stringMatching(/Syntax error in expression `\$steps\.extract\.output\.total >` at position/),
    });
  });
});
