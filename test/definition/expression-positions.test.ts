/**
 * An issue inside an expression points at the line and column of the mistake in the file, not at the start of the
 * scalar that holds it: a multi-line `prompt: |` reports each bad name on its own line, in file order (found by an
 * outside tester: both issues of a block were at its `|`, in reverse order).
 */
import { describe, expect, it } from 'vitest';
import { errorsOf, yaml } from './helpers.js';

describe('expression issues are located inside their scalar', () => {
  it('in a literal block scalar, at the line and column of each name, in file order', () => {
    const text = yaml(
      'id: block', //                                           1
      'steps:', //                                              2
      '  a:', //                                                3
      '    claude:', //                                         4
      '      tool: note', //                                    5
      '      prompt: |', //                                     6
      '        Line one of the prompt.', //                     7
      '        Line two mentions {% $input.name %}.', //        8
      '        Line three has a bad one {% $inptu.x %} here.', // 9
      '        Line four {% $steps.nope.output %}.', //         10
      '    next: done', //                                      11
      '  done: { final: true }', //                             12
    );
    expect(errorsOf(text)).toEqual([
      'flow.yaml:9:37: steps.a.claude.prompt: $inptu is not a variable; did you mean "$input"?',
      'flow.yaml:10:22: steps.a.claude.prompt: $steps.nope names no step "nope"; did you mean "done"?',
    ]);
  });

  it('in a folded block scalar whose lines are more indented, and for a syntax error', () => {
    const text = yaml(
      'id: folded', //                  1
      'steps:', //                      2
      '  b:', //                        3
      '    tool: echo', //              4
      '    with:', //                   5
      '      value: >-', //             6
      '        {% $input.a +', //       7
      '           $input.b +', //       8
      '           $foo(1) %}', //       9
      '      other: >', //              10
      '        text, then', //          11
      '        {% $input.a + %}', //    12
      '    next: done', //              13
      '  done: { final: true }', //     14
    );
    const errors = errorsOf(text);
    expect(errors[0]).toBe('flow.yaml:9:12: steps.b.with.value: $foo() is not a function of JSONata');
    expect(errors[1]).toMatch(/^flow\.yaml:12:\d+: steps\.b\.with\.other: Syntax error in expression/);
    expect(errors).toHaveLength(2);
  });

  it('in a one-line quoted string, at the name rather than the opening quote', () => {
    const text = yaml('id: q', 'steps:', '  a: { tool: echo, with: { value: "say {% $inptu %}" }, next: done }', '  done: { final: true }');
    expect(errorsOf(text)).toEqual(['flow.yaml:3:43: steps.a.with.value: $inptu is not a variable; did you mean "$input"?']);
  });

  it('in a choice condition written without {% %}', () => {
    const text = yaml('id: c', 'steps:', '  r:', '    choice:', '      - when: $inptu.x > 1', '        next: done', '      - next: done', '  done: { final: true }');
    expect(errorsOf(text)).toEqual(['flow.yaml:5:15: steps.r.choice[0].when: $inptu is not a variable; did you mean "$input"?']);
  });

  it('falls back to the start of a string whose text it cannot follow (escapes)', () => {
    const text = yaml('id: e', 'steps:', '  a: { tool: echo, with: { value: "a\\tb {% $inptu %}" }, next: done }', '  done: { final: true }');
    expect(errorsOf(text)).toEqual(['flow.yaml:3:35: steps.a.with.value: $inptu is not a variable; did you mean "$input"?']);
  });
});
