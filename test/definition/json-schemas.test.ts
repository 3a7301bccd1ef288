/**
 * Every JSON Schema a definition holds (its `input`, each `analyze.schema`) is compiled when it loads, as the engine
 * compiles it (Ajv, 2020-12, not strict), and a schema Ajv refuses is a located definition issue. Found by an outside
 * tester: `input: { type: strin }` passed `validate`, then `run`/`test` printed an Ajv stack trace and the HTTP API
 * answered 500; a bad `analyze.schema` was retried with three paid model calls.
 */
import { describe, expect, it } from 'vitest';
import { DefinitionError } from '../../src/errors.js';
import { loadDefinitionFromObject, loadDefinitionText } from '../../src/definition/load.js';
import { yaml } from './helpers.js';

async function issues(text: string): Promise<string[]> {
  const error = await loadDefinitionText(text, 'flow.yaml', { loadTools: false }).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DefinitionError);
  return (error as DefinitionError).message.split('\n');
}

const analyze = (schema: string) =>
  yaml('id: an', 'steps:', '  classify:', '    analyze:', '      prompt: Classify the ticket.', `      schema: ${schema}`, '    next: done', '  done: { final: true }');

describe('JSON Schemas in a definition', () => {
  it('refuses an input schema with an unknown type at the field', async () => {
    expect(await issues(yaml('id: bad-input', 'input: { type: strin }', 'steps:', '  done: { final: true }'))).toEqual([
      'flow.yaml:2:16: input.type: not a valid JSON Schema: must be one of array, boolean, integer, null, number, object, string (got "strin")',
    ]);
  });

  it('refuses an analyze schema whose enum is not a list, at the keyword', async () => {
    expect(await issues(analyze('{ type: object, properties: { level: { enum: low } }, required: [level] }'))).toEqual([
      'flow.yaml:6:60: steps.classify.analyze.schema.properties.level.enum: not a valid JSON Schema: must be array',
    ]);
  });

  it('refuses a schema Ajv cannot compile though its shape is valid (a bad pattern, a reference to nothing)', async () => {
    expect(await issues(analyze('{ properties: { a: { type: string, pattern: "(" } } }'))).toEqual([
      // Named once, at the pattern itself (./schema-patterns.ts), not again by the compile.
      expect.stringMatching(/^flow\.yaml:6:59: steps\.classify\.analyze\.schema\.properties\.a\.pattern: the pattern "\(" cannot be used: the linear-time matcher \(RE2\) rejects it: missing closing \)/),
    ]);
    expect(await issues(yaml('id: bad-meta', 'input: { $schema: "https://example.com/nope" }', 'steps:', '  done: { final: true }'))).toEqual([
      'flow.yaml:2:8: input: not a valid JSON Schema: no schema with key or ref "https://example.com/nope"',
    ]);
    expect(await issues(yaml('id: bad-ref', 'input: { $ref: "#/nope" }', 'steps:', '  done: { final: true }'))).toEqual([
      "flow.yaml:2:8: input: not a valid JSON Schema: can't resolve reference #/nope from id #",
    ]);
  });

  it('checks the analyze steps of branches and map bodies too', async () => {
    const text = yaml(
      'id: nested',
      'steps:',
      '  each:',
      '    map:',
      '      items: "{% [1, 2] %}"',
      '      steps:',
      '        judge:',
      '          analyze: { prompt: Judge., schema: { properties: { n: { minimum: low } } } }',
      '        end: { final: true }',
      '    next: done',
      '  done: { final: true }',
    );
    expect(await issues(text)).toEqual(['flow.yaml:8:76: steps.each.map.steps.judge.analyze.schema.properties.n.minimum: not a valid JSON Schema: must be number']);
  });

  it('accepts schemas Ajv compiles, keywords the quick check does not know included', async () => {
    const loaded = await loadDefinitionText(
      yaml('id: ok', 'input: { type: object, properties: { email: { type: string, format: email }, n: { oneOf: [{ type: integer }, { type: "null" }] } } }', 'steps:', '  done: { final: true }'),
      'flow.yaml',
      { loadTools: false },
    );
    expect(loaded.workflow.input).toBeDefined();
  });

  it('refuses them in a definition given as an object, at its label', () => {
    expect(() => loadDefinitionFromObject({ id: 'obj', input: { type: 'strin' }, steps: { done: { final: true } } }, [], 'obj')).toThrow(
      'obj:1:1: input.type: not a valid JSON Schema: must be one of',
    );
  });
});
