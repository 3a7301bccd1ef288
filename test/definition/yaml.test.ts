import { describe, expect, it } from 'vitest';
import { DefinitionError } from '../../src/errors.js';
import { parseYaml } from '../../src/definition/yaml.js';
import { errorsOf, yaml } from './helpers.js';

describe('parseYaml', () => {
  const text = yaml(
    'id: flow', //                       1
    'steps:', //                         2
    '  find:', //                        3
    '    tool: lookup', //               4
    '    with: { id: "{% $input %}" }', // 5
    '  done: { final: true }', //        6
  );

  it('returns plain data', () => {
    expect(parseYaml(text, 'f.yaml').data).toEqual({
      id: 'flow',
      steps: { find: { tool: 'lookup', with: { id: '{% $input %}' } }, done: { final: true } },
    });
  });

  it('locates values, keys, block collections at their key, and missing paths at the nearest ancestor', () => {
    const { locate } = parseYaml(text, 'f.yaml');
    expect(locate(['steps', 'find', 'tool'])).toEqual({ line: 4, col: 11 });
    expect(locate(['steps', 'find', 'tool'], 'key')).toEqual({ line: 4, col: 5 });
    expect(locate(['steps', 'find'])).toEqual({ line: 3, col: 3 });
    expect(locate(['steps', 'find', 'with', 'id'])).toEqual({ line: 5, col: 17 });
    expect(locate(['steps', 'done'])).toEqual({ line: 6, col: 9 });
    expect(locate(['steps', 'find', 'next'])).toEqual({ line: 3, col: 3 });
    expect(locate(['steps', 'done', 'output'])).toEqual({ line: 6, col: 9 });
  });

  it('reports a syntax error with its line and column', () => {
    expect(errorsOf(yaml('id: flow', 'steps:', '  find:', '    tool: lookup', '   next: done'))).toEqual([
      'flow.yaml:5:1: YAML syntax error: All mapping items must start at the same column',
    ]);
  });

  it('reports an unclosed flow mapping', () => {
    const [error] = errorsOf(yaml('id: flow', 'steps: { done: { final: true }'));
    expect(error).toMatch(/^flow\.yaml:\d+:\d+: YAML syntax error: /);
  });

  it('rejects duplicate keys at the duplicate, with its path', () => {
    expect(errorsOf(yaml('id: flow', 'steps:', '  find:', '    tool: lookup', '    next: done', '    next: find', '  done: { final: true }'))).toEqual([
      'flow.yaml:6:5: steps.find.next: duplicate key "next": a key may appear once per mapping',
    ]);
  });

  it('parses JSON, tabs included', () => {
    expect(parseYaml('{\n\t"id": "j",\n\t"steps": { "a": { "final": true } }\n}\n', 'f.json').data).toEqual({ id: 'j', steps: { a: { final: true } } });
  });

  it('supports merge keys', () => {
    const { data } = parseYaml(yaml('retry: &r { maxAttempts: 2 }', 'steps:', '  a: { <<: { retry: *r }, tool: x }'), 'f.yaml');
    expect(data).toEqual({ retry: { maxAttempts: 2 }, steps: { a: { retry: { maxAttempts: 2 }, tool: 'x' } } });
  });

  it('says a file holds one document, at the line where a second one starts (it gave the parser library\'s advice)', () => {
    expect(errorsOf(yaml('id: a', 'steps:', '  d: { final: true }', '---', 'id: b'))).toEqual([
      'flow.yaml:4:1: YAML syntax error: a definition file holds one YAML document, and a second one starts here; remove the "---" line and what follows, or put it in a file of its own',
    ]);
  });

  it('reports an unclosed quote where it opens, once (it was at the end of the file, with a follow-on error)', () => {
    expect(errorsOf(yaml('id: s1', 'steps:', '  a:', '    tool: echo', '    with: { value: "unclosed }', '  done: { final: true }'))).toEqual([
      'flow.yaml:5:20: YAML syntax error: this " quote is not closed: the string runs to the end of the file; close it with "',
    ]);
    expect(errorsOf(yaml("a: 'x", 'b: 2'))).toEqual([`flow.yaml:1:4: YAML syntax error: this ' quote is not closed: the string runs to the end of the file; close it with '`]);
  });

  it('throws DefinitionError', () => {
    expect(() => parseYaml('a: [', 'f.yaml')).toThrow(DefinitionError);
  });
});
