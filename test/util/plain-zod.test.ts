/**
 * The plain check in front of zod must agree with zod: same verdict, and for
 * a valid value the very output zod gives (same keys, same order), on
 * generated schemas (inside and outside the plain subset) and values (drawn
 * near each schema, and arbitrary).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { plainParse, safeParse } from '../../src/util/plain-zod.js';

/** A schema and values near it. */
interface Gen {
  readonly schema: z.ZodType;
  readonly near: fc.Arbitrary<unknown>;
}

const words = ['a', 'b', 'ab', 'abc', '', 'é', 'x'];
const anyJson: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.constant(Number.NaN), fc.constant(Infinity), fc.constant(new Date(0)));

const stringGen: fc.Arbitrary<Gen> = fc
  .record({ min: fc.option(fc.nat(3)), max: fc.option(fc.nat(4)), odd: fc.constantFrom('none', 'regex', 'email', 'transform', 'default', 'refine') })
  .map(({ min, max, odd }) => {
    let s = z.string();
    if (min !== null) s = s.min(min);
    if (max !== null) s = s.max(max);
    const schema: z.ZodType =
      odd === 'regex' ? s.regex(/b/) : odd === 'email' ? z.email() : odd === 'transform' ? s.transform((v) => v.toUpperCase()) : odd === 'default' ? s.default('d') : odd === 'refine' ? s.refine((v) => v !== 'a') : s;
    return { schema, near: fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 5 }), fc.integer()) };
  });

const numberGen: fc.Arbitrary<Gen> = fc
  .record({ lo: fc.option(fc.integer({ min: -3, max: 3 })), hi: fc.option(fc.integer({ min: -3, max: 3 })), strict: fc.boolean(), int: fc.constantFrom('no', 'method', 'own'), odd: fc.constantFrom('none', 'multipleOf', 'coerce') })
  .map(({ lo, hi, strict, int, odd }) => {
    let n = int === 'own' ? z.int() : odd === 'coerce' ? z.coerce.number() : z.number();
    if (int === 'method') n = n.int();
    if (lo !== null) n = strict ? n.gt(lo) : n.gte(lo);
    if (hi !== null) n = strict ? n.lt(hi) : n.lte(hi);
    if (odd === 'multipleOf') n = n.multipleOf(2);
    return { schema: n as z.ZodType, near: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ min: -5, max: 5 }), fc.constantFrom(Number.NaN, Infinity, -0, 2 ** 60, '1')) };
  });

const leafGen: fc.Arbitrary<Gen> = fc.oneof(
  stringGen,
  numberGen,
  fc.constant<Gen>({ schema: z.boolean(), near: fc.constantFrom(true, false, 'true', 0) }),
  fc.constant<Gen>({ schema: z.null(), near: fc.constantFrom(null, undefined, 0) }),
  fc.constant<Gen>({ schema: z.enum(['a', 'b', 'c']), near: fc.constantFrom('a', 'c', 'd', 1) }),
  fc.constant<Gen>({ schema: z.literal('x'), near: fc.constantFrom('x', 'y') }),
  fc.constant<Gen>({ schema: z.literal([1, 2]), near: fc.constantFrom(1, 2, 3, '1') }),
  fc.constant<Gen>({ schema: z.union([z.string(), z.number()]), near: fc.constantFrom('x', 1, true) }),
  fc.constant<Gen>({ schema: z.unknown(), near: anyJson }),
);

const genOf: fc.Arbitrary<Gen> = fc.letrec<{ gen: Gen; object: Gen; array: Gen; wrapped: Gen }>((tie) => ({
  gen: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafGen, tie('object'), tie('array'), tie('wrapped')),
  wrapped: fc.record({ inner: tie('gen'), how: fc.constantFrom('optional', 'nullable') }).map(({ inner, how }) => ({
    schema: how === 'optional' ? inner.schema.optional() : inner.schema.nullable(),
    near: fc.oneof(inner.near, fc.constantFrom(undefined, null)),
  })),
  array: fc.record({ element: tie('gen'), min: fc.option(fc.nat(2)), max: fc.option(fc.nat(3)) }).map(({ element, min, max }) => {
    let a = z.array(element.schema);
    if (min !== null) a = a.min(min);
    if (max !== null) a = a.max(max);
    return { schema: a as z.ZodType, near: fc.oneof(fc.array(element.near, { maxLength: 4 }), anyJson) };
  }),
  object: fc
    .record({
      fields: fc.uniqueArray(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd', '1', '__proto__'), gen: tie('gen') }), { maxLength: 4, selector: (f) => f.key }),
      kind: fc.constantFrom('object', 'strict', 'loose', 'refined'),
    })
    .map(({ fields, kind }) => {
      const shape = Object.fromEntries(fields.map((f) => [f.key, f.gen.schema]));
      const schema = kind === 'strict' ? z.strictObject(shape) : kind === 'loose' ? z.looseObject(shape) : kind === 'refined' ? z.object(shape).refine(() => true) : z.object(shape);
      // Values with the schema's keys in its order or shuffled, some left out, some extra.
      const near = fc
        .record({ values: fc.tuple(...fields.map((f) => f.gen.near)), keep: fc.array(fc.boolean(), { minLength: fields.length, maxLength: fields.length }), shuffle: fc.boolean(), extra: fc.option(fc.constantFrom('z', 'a')) })
        .map(({ values, keep, shuffle, extra }) => {
          const entries: Array<[string, unknown]> = fields.flatMap((f, i) => (keep[i] ? [[f.key, values[i]] as [string, unknown]] : []));
          if (shuffle) entries.reverse();
          if (extra !== null) entries.push([extra, 1]);
          const out: Record<string, unknown> = {};
          for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
          return out;
        });
      return { schema, near: fc.oneof({ weight: 4, arbitrary: near }, { weight: 1, arbitrary: anyJson }) };
    }),
})).gen;

/** The keys of every object in `value`, in order, with its JSON text: equal outputs in the same order. */
const shapeOf = (value: unknown): unknown =>
  Array.isArray(value) ? value.map(shapeOf) : typeof value === 'object' && value !== null ? Object.entries(value).map(([k, v]) => [k, shapeOf(v)]) : value;

describe('safeParse (the plain check before zod)', () => {
  it('agrees with zod on generated schemas and values: verdict, output and key order', () => {
    // Objects and arrays the plain check settled: the property must reach them.
    let settled = 0;
    fc.assert(
      fc.property(
        genOf.chain((gen) => fc.tuple(fc.constant(gen.schema), gen.near)),
        ([schema, value]) => {
          const ours = safeParse(schema, value);
          const zods = schema.safeParse(value);
          expect(ours.success).toBe(zods.success);
          if (ours.success && zods.success) {
            if (typeof value === 'object' && value !== null && plainParse(schema, value)) settled++;
            expect(ours.data).toEqual(zods.data);
            expect(shapeOf(ours.data)).toEqual(shapeOf(zods.data));
          } else {
            expect(ours.error?.issues).toEqual(zods.error?.issues);
          }
        },
      ),
      { numRuns: 3000 },
    );
    expect(settled).toBeGreaterThan(20);
  });

  it('hands back fresh objects and arrays as zod does, unknown keys dropped, and leaves invalid values to zod', () => {
    const schema = z.object({ vendor: z.string().min(1), total: z.number().int().gte(0), kind: z.enum(['a', 'b']), note: z.string().optional(), lines: z.array(z.object({ sku: z.string() })).max(3) });
    const input = { vendor: 'V-1', total: 3, kind: 'a' as const, lines: [{ sku: 'S' }] };
    const parsed = plainParse(schema, input);
    expect(parsed?.data).toEqual(input);
    expect(parsed?.data).not.toBe(input); // a tool that changes its input changes no one else's
    expect((parsed?.data as typeof input).lines).not.toBe(input.lines);
    expect((parsed?.data as typeof input).lines[0]).not.toBe(input.lines[0]);
    const stripped = plainParse(schema, { other: 1, ...input });
    expect(JSON.stringify(stripped?.data)).toBe(JSON.stringify(input)); // zod's output: the unknown key dropped, the schema's order
    expect(plainParse(schema, { ...input, total: -1 })).toBeUndefined();
    expect(plainParse(z.object({ at: z.string() }).refine(() => true), { at: 'x' })).toBeUndefined();
    const bad = safeParse(schema, { ...input, total: -1 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['total']);
  });
});
