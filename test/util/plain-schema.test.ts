/**
 * plainSchemaAccepts never calls valid what Ajv (as the engine sets it up)
 * rejects or refuses to compile, and it does call the examples' inputs valid,
 * so a valid run input is checked without loading Ajv.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { lazyAjv } from '../../src/util/lazy-ajv.js';
import { plainSchemaAccepts } from '../../src/util/plain-schema.js';

// The engine's own Ajv: its patterns are matched by RE2, as plainSchemaAccepts matches them.
const ajv = await lazyAjv()();

function ajvAccepts(schema: unknown, value: unknown): boolean {
  try {
    return ajv.compile(schema as object)(value) === true;
  } catch {
    return false;
  }
}

const keys = fc.constantFrom('a', 'b', 'c');
const text = fc.string({ unit: fc.constantFrom('a', 'b', '1', '😀'), maxLength: 3 });
/** Small JSON values, so that they often match the schemas below. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    fc.integer({ min: -4, max: 4 }),
    fc.constantFrom(0.5, -1.5),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(keys, tie('value'), { maxKeys: 3 }),
  ),
})).value;
const count = fc.nat({ max: 3 });
const bound = fc.integer({ min: -3, max: 3 });
/** Anything a keyword should not hold, for malformed schemas. */
const junk = fc.constantFrom(-1, 1.5, 'x', null, [], '(', 'strang', ['string', 'string']);
const type = fc.oneof(fc.constantFrom('string', 'number', 'integer', 'object', 'array', 'boolean', 'null'), fc.uniqueArray(fc.constantFrom('string', 'number', 'integer', 'null', 'object'), { minLength: 1, maxLength: 3 }));
const schema: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  schema: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.boolean(),
    fc.record({ type, minLength: count, maxLength: count, pattern: fc.constantFrom('^a', 'b', '\\d', '^\\p{L}+$', '^(a|b)+$', '^(a)\\1$', '^.$'), title: fc.string(), format: fc.constant('email') }, { requiredKeys: [] }),
    fc.record({ type, minimum: bound, maximum: bound, exclusiveMinimum: bound, exclusiveMaximum: bound, default: value }, { requiredKeys: [] }),
    fc.record({ type, items: tie('schema'), minItems: count, maxItems: count, uniqueItems: fc.boolean() }, { requiredKeys: [] }),
    fc.record(
      { type, properties: fc.dictionary(keys, tie('schema'), { maxKeys: 3 }), required: fc.uniqueArray(keys, { maxLength: 3 }), additionalProperties: fc.oneof(fc.boolean(), tie('schema')) },
      { requiredKeys: [] },
    ),
    fc.record({ enum: fc.array(value, { maxLength: 3 }), const: value, description: fc.string(), deprecated: fc.boolean() }, { requiredKeys: [] }),
    // A malformed keyword somewhere.
    fc.tuple(tie('schema'), fc.constantFrom('type', 'minLength', 'maxItems', 'pattern', 'required', 'properties', 'items', 'exclusiveMinimum', 'title', 'deprecated', 'enum'), junk).map(([s, k, j]) =>
      typeof s === 'object' && s !== null ? { ...s, [k]: j } : s,
    ),
  ),
})).schema;

describe('plainSchemaAccepts', () => {
  it('says valid only when Ajv compiles the schema and accepts the value', () => {
    fc.assert(
      fc.property(schema, value, (s, v) => {
        if (plainSchemaAccepts(s, v) === true) expect(ajvAccepts(s, v)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('leaves to Ajv what Ajv must refuse or word: a malformed schema, an unknown keyword, an invalid value', () => {
    expect(plainSchemaAccepts({ type: 'strang' }, 'x')).toBeUndefined();
    expect(plainSchemaAccepts({ properties: { a: { type: 'strang' } } }, {})).toBeUndefined();
    expect(plainSchemaAccepts({ type: 'string', format: 'email' }, 'x')).toBeUndefined();
    expect(plainSchemaAccepts({ required: ['a'] }, { a: undefined })).toBeUndefined();
    expect(plainSchemaAccepts({ type: 'string', maxLength: 1 }, '😀😀')).toBeUndefined();
    expect(plainSchemaAccepts({ type: 'string', maxLength: 1 }, '😀')).toBe(true);
  });

  it('accepts the example definitions with their example inputs', () => {
    for (const name of ['invoice-approval', 'expense-review', 'support-triage', 'invoice-intake']) {
      const definition = parse(readFileSync(`definitions/${name}.yaml`, 'utf8')) as { input: unknown };
      const input = JSON.parse(readFileSync(`definitions/${name}.input.json`, 'utf8')) as unknown;
      expect(ajvAccepts(definition.input, input), name).toBe(true);
      expect(plainSchemaAccepts(definition.input, input), name).toBe(true);
    }
  });
});
