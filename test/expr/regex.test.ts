import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { compileExpression, compileMapping, evaluateExpression, evaluateMapping, expressionIssues, type Scope } from '../../src/expr/index.js';
import { errorsOf, yaml } from '../definition/helpers.js';

const scope: Scope = {
  input: { s: `${'a'.repeat(40)}X`, text: 'Invoice INV-2024-17 from ACME\nTotal: 1,250.00 EUR\nDue 2024-12-31', emoji: '😀 café' },
  steps: {},
};
const evaluate = (text: string) => evaluateExpression(compileExpression(text), scope);

/** What jsonata itself answers with the native RegExp (safe here: none of these patterns backtracks badly). */
async function native(text: string): Promise<unknown> {
  const context = { input: scope.input, steps: scope.steps };
  try {
    return JSON.parse(JSON.stringify((await jsonata(text).evaluate(context, context)) ?? null)) as unknown;
  } catch (error) {
    return { failed: (error as { code?: string }).code };
  }
}
async function ours(text: string): Promise<unknown> {
  try {
    return (await evaluate(text)) ?? null;
  } catch (error) {
    return { failed: ((error as Error).cause as { code?: string } | undefined)?.code };
  }
}

describe('regular expressions are matched in linear time', () => {
  it('a catastrophic pattern on 40 "a"s and an "X" answers at once', async () => {
    expect(await evaluate('$contains($input.s, /^(a+)+$/)')).toBe(false);
    expect(await evaluate('$match($input.s, /(a|aa)+$/)')).toBeUndefined();
    expect(await evaluate('$contains($input.s & "a", /^(a+)+a$/)')).toBe(false);
    expect(await evaluate('$contains($substring($input.s, 0, 40), /^(a+)+$/)')).toBe(true);
  });

  it.each([
    '$match($input.text, /INV-(\\d{4})-(\\d+)/)',
    '$match($input.text, /\\d+/)',
    '$match($input.text, /\\d+/, 2)',
    '$match($input.text, /(x)?(\\d{4})/)',
    '$match($input.text, /^\\w+/m)',
    '$match($input.text, /^total: ([\\d,.]+) (eur)$/im)',
    '$match($input.text, /^Due/)',
    '$match($input.emoji, /é/)',
    '$match($input.emoji, /caf./)',
    '$match("ab ab", /\\bab/)',
    '$match("a/b/c", /[^\\/]+/)',
    '$match("x", /x*/)',
    '$match("xa", /x*/)',
    '$match($input.text, /(?<year>\\d{4})-(?<month>\\d\\d)/)',
    '$contains($input.text, /acme/i)',
    '$contains($input.text, /acme/)',
    '$contains($input.text, /^Total/)',
    '$contains($input.text, /^Total/m)',
    '$split($input.text, /\\s*[:\\n]\\s*/)',
    '$split("a1b22c333", /\\d+/, 2)',
    '$replace($input.text, /(\\d{4})-(\\d\\d)-(\\d\\d)/, "$3.$2.$1")',
    '$replace($input.text, /\\d/, "#", 3)',
    '$replace("John Smith", /(\\w+)\\s(\\w+)/, function($m) { $m.groups[1] & ", " & $m.groups[0] })',
    '$replace("abc", /B/i, "$0$0")',
    '$input.text ~> /INV-\\d+-\\d+/',
    '($re := /c(a)t/; [$contains("concat", $re), $match("cat cot cat", $re).index])',
    '$filter(["apple", "Avocado", "banana"], function($v) { $contains($v, /^a/i) })',
    '$input.text.$match(/[A-Z]{3,}/).match',
    '/ab+/("xabbby")',
  ])('%s answers as jsonata with the native RegExp', async (text) => {
    expect(await ours(text)).toEqual(await native(text));
  });
});

describe('regular expressions RE2 cannot match', () => {
  it.each([
    ['$match("aa", /(a)\\1/)', /backreference/],
    ['$contains("ab", /a(?=b)/)', /lookahead/],
    ['$contains("ab", /a(?!b)/)', /lookahead/],
    ['$split("ab", /(?<=(a))/)', /lookbehind/],
  ])('%s is refused when it is compiled, naming the pattern', (text, hint) => {
    let error: unknown;
    try {
      compileExpression(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'expression_failed' });
    expect((error as Error).message).toMatch(/regular expression \/.+\//);
    expect((error as Error).message).toMatch(hint);
    expect(expressionIssues({ when: `{% ${text} %}` })).toEqual([{ path: ['when'], message: (error as Error).message, at: 3 }]);
  });

  it('is reported by validate with its location', () => {
    const errors = errorsOf(
      yaml(
        'id: flow',
        'steps:',
        '  route:',
        '    choice:',
        '      - { when: "{% $contains($input.name, /(a)\\\\1/) %}", next: done }',
        '      - { next: done }',
        '  done: { final: true }',
      ),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^flow\.yaml:5:\d+: steps\.route\.choice\[0\]\.when: .*regular expression \/\(a\)\\1\//);
  });

  it('fails at evaluation when built inside $eval, as an expression failure', async () => {
    await expect(evaluate('$eval("$contains(\\"ab\\", /a(?=b)/)")')).rejects.toMatchObject({
      code: 'expression_failed',
      message: expect.stringMatching(/regular expression \/a\(\?=b\)\/.*lookahead/),
    });
    await expect(evaluateMapping(compileMapping({ x: ['{% $eval("/(a)\\\\1/")("aa") %}'] }), scope)).rejects.toThrow(
      /backreference.* at x\[0\]/,
    );
  });

  it('accepts captureless lookbehind, which RE2 matches in linear time', async () => {
    expect(await evaluate('$match("cb ab", /(?<=a)b/).index')).toBe(4);
    expect(await evaluate('$match("cb ab", /(?<!a)b/).index')).toBe(1);
  });
});
