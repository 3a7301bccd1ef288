/**
 * JSON Schema patterns of a definition (the run input's schema, an analyze step's) are matched by RE2, in linear
 * time; a pattern RE2 cannot match (a backreference, lookahead) is refused when the definition is loaded, at its
 * file, line and field, not when a run first meets it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefinition } from '../../src/definition/load.js';
import { DefinitionError, formatIssue } from '../../src/errors.js';
import { cli } from '../cli/helpers.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { errorsOf, yaml } from './helpers.js';

const definition = (input: string[], schema: string[]) =>
  yaml(
    'id: flow',
    ...input,
    'steps:',
    '  look:',
    '    analyze:',
    '      prompt: Classify it.',
    '      schema:',
    ...schema,
    '    next: done',
    '  done: { final: true }',
  );

describe('JSON Schema patterns RE2 cannot match', () => {
  it('are refused at their file, line and field: a backreference, lookahead, a patternProperties key, wherever they are nested', () => {
    const errors = errorsOf(
      definition(
        [
          'input:',
          '  type: object',
          '  properties:',
          '    code: { type: string, pattern: "^(a)\\\\1$" }',
          '    items: { type: array, items: { anyOf: [{ type: string, pattern: "^(?!x)" }] } }',
        ],
        [
          '        type: object',
          '        properties:',
          '          handle: { type: string, pattern: "^(?=a)a" }',
          '          tags:',
          '            type: object',
          '            patternProperties:',
          '              "^(x)\\\\1$": { type: string }',
          '        $defs:',
          '          word: { type: string, pattern: "(?<=(a))b" }',
        ],
      ),
    );
    expect(errors).toEqual([
      expect.stringMatching(/^flow\.yaml:5:36: input\.properties\.code\.pattern: the pattern "\^\(a\)\\\\1\$" cannot be used: it uses a backreference/),
      expect.stringMatching(/^flow\.yaml:6:69: input\.properties\.items\.items\.anyOf\[0\]\.pattern: the pattern "\^\(\?!x\)" cannot be used: it uses lookahead/),
      expect.stringMatching(/^flow\.yaml:14:44: steps\.look\.analyze\.schema\.properties\.handle\.pattern: the pattern "\^\(\?=a\)a" cannot be used: it uses lookahead/),
      expect.stringMatching(/^flow\.yaml:18:27: steps\.look\.analyze\.schema\.properties\.tags\.patternProperties\["\^\(x\)\\\\1\$"\]: the pattern "\^\(x\)\\\\1\$" cannot be used: it uses a backreference/),
      expect.stringMatching(/^flow\.yaml:20:42: steps\.look\.analyze\.schema\.\$defs\.word\.pattern: the pattern "\(\?<=\(a\)\)b" cannot be used: it uses a lookbehind/),
    ]);
    for (const error of errors) expect(error).toMatch(/rewrite it without that feature/);
  });

  it('are not looked for in values that are not schemas (enum, const, default, examples), nor in a property named "pattern"', () => {
    expect(
      errorsOf(
        definition(
          [],
          [
            '        type: object',
            '        properties:',
            '          pattern: { type: string, pattern: "^[a-z]+(-[a-z]+)*$" }',
            '          kind: { enum: [{ pattern: "(a)\\\\1" }], const: { pattern: "(?=a)" }, default: { pattern: "(?=a)" }, examples: [{ pattern: "(?=a)" }] }',
          ],
        ),
      ),
    ).toEqual([]);
  });

  it('are refused by loadDefinition and by stepwise validate, which exits 1 naming the field', { timeout: SPAWN_BUDGET_MS }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-patterns-'));
    const file = join(dir, 'flow.yaml');
    writeFileSync(file, definition([], ['        type: object', '        properties:', '          id: { type: string, pattern: "^(a)\\\\1$" }']));
    const refused = await loadDefinition(file).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DefinitionError);
    expect((refused as DefinitionError).issues.map(formatIssue)).toEqual([expect.stringContaining(`${file}:9:40: steps.look.analyze.schema.properties.id.pattern: the pattern`)]);
    const validated = await cli(['validate', file]);
    expect(validated.code).toBe(1);
    expect(validated.stdout + validated.stderr).toContain('steps.look.analyze.schema.properties.id.pattern: the pattern "^(a)\\\\1$" cannot be used: it uses a backreference');
  });
});
