/**
 * A precompiled check of values against the plain zod schemas tools use for
 * their inputs and outputs (objects of strings, numbers, booleans, enums,
 * literals and arrays, with lengths, bounds, `int`, `optional` and
 * `nullable`), so that a valid value does not pay for zod's general parse at
 * every step. Like ./plain-schema.ts it only ever answers "valid, and zod's
 * output is this very value": for a schema with any part it does not know in
 * full (a refinement, a transform, a default, a regex, a union, …), and for a
 * value it cannot settle (invalid, an extra key zod would strip, keys out of
 * the schema's order, a class instance), zod parses as before, so its verdict,
 * its output and its messages stay the ones users see. A property test holds
 * it to agree with zod.
 */
import type { z } from 'zod';

/** What zod's parse of a value gives, when the plain check settles it: its output (fresh objects and arrays, as zod makes them), or {@link UNSURE}. */
type Parse = (value: unknown) => unknown;

/** A value the plain check leaves to zod (invalid, or not certainly plain). */
const UNSURE: unique symbol = Symbol('unsure');

interface Def {
  readonly type: string;
  readonly checks?: ReadonlyArray<{ readonly _zod: { readonly def: CheckDef } }>;
  readonly format?: string;
  readonly check?: string;
  readonly coerce?: boolean;
  readonly shape?: Readonly<Record<string, unknown>>;
  readonly element?: unknown;
  readonly innerType?: unknown;
  readonly entries?: Readonly<Record<string, unknown>>;
  readonly values?: readonly unknown[];
  readonly catchall?: unknown;
}

interface CheckDef {
  readonly check: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly length?: number;
  readonly value?: unknown;
  readonly inclusive?: boolean;
  readonly format?: string;
}

const defOf = (schema: unknown): Def | undefined => (schema as { _zod?: { def?: Def } } | null)?._zod?.def;

/** Compiled checks by schema; null for a schema outside the plain subset. */
const compiled = new WeakMap<object, Parse | null>();

function parserOf(schema: unknown): Parse | null {
  if (typeof schema !== 'object' || schema === null) return null;
  let parse = compiled.get(schema);
  if (parse === undefined) {
    parse = compile(schema);
    compiled.set(schema, parse);
  }
  return parse;
}

/** The length bounds of a string's or array's checks; null when one is not a length check. */
function lengthBounds(def: Def): { min: number; max: number } | null {
  let min = 0;
  let max = Infinity;
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'min_length' && typeof d.minimum === 'number') min = Math.max(min, d.minimum);
    else if (d.check === 'max_length' && typeof d.maximum === 'number') max = Math.min(max, d.maximum);
    else if (d.check === 'length_equals' && typeof d.length === 'number') {
      min = Math.max(min, d.length);
      max = Math.min(max, d.length);
    } else return null;
  }
  return { min, max };
}

/** A number's checks (bounds, safe integer) as one test; null when one is of another kind. */
function numberTest(def: Def): ((n: number) => boolean) | null {
  const tests: Array<(n: number) => boolean> = [];
  const own = def.check === undefined ? [] : [def as unknown as CheckDef];
  for (const d of [...own, ...(def.checks ?? []).map((c) => c._zod.def)]) {
    if (d.check === 'number_format' && d.format === 'safeint') tests.push(Number.isSafeInteger);
    else if (d.check === 'greater_than' && typeof d.value === 'number') {
      const bound = d.value;
      tests.push(d.inclusive ? (n) => n >= bound : (n) => n > bound);
    } else if (d.check === 'less_than' && typeof d.value === 'number') {
      const bound = d.value;
      tests.push(d.inclusive ? (n) => n <= bound : (n) => n < bound);
    } else return null;
  }
  return (n) => tests.every((t) => t(n));
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

function compile(schema: object): Parse | null {
  const def = defOf(schema);
  if (!def || def.coerce) return null;
  switch (def.type) {
    case 'string': {
      if (def.format !== undefined || def.check !== undefined) return null;
      const bounds = lengthBounds(def);
      if (!bounds) return null;
      const { min, max } = bounds;
      return (value) => (typeof value === 'string' && value.length >= min && value.length <= max ? value : UNSURE);
    }
    case 'number': {
      if (def.format !== undefined && def.format !== 'safeint') return null;
      const test = numberTest(def);
      if (!test) return null;
      return (value) => (typeof value === 'number' && Number.isFinite(value) && test(value) ? value : UNSURE);
    }
    case 'boolean':
      return def.checks?.length ? null : (value) => (typeof value === 'boolean' ? value : UNSURE);
    case 'null':
      return def.checks?.length ? null : (value) => (value === null ? value : UNSURE);
    case 'enum': {
      const values = Object.values(def.entries ?? {});
      if (def.checks?.length || values.length === 0 || !values.every((v) => typeof v === 'string')) return null;
      const allowed = new Set(values);
      return (value) => (typeof value === 'string' && allowed.has(value) ? value : UNSURE);
    }
    case 'literal': {
      const values = def.values ?? [];
      if (def.checks?.length || !values.every((v) => v === null || ['string', 'boolean'].includes(typeof v) || (typeof v === 'number' && Number.isFinite(v)))) return null;
      const allowed = new Set(values);
      return (value) => (allowed.has(value) ? value : UNSURE);
    }
    case 'optional':
    case 'nullable': {
      if (def.checks?.length) return null;
      const inner = parserOf(def.innerType);
      if (!inner) return null;
      const empty = def.type === 'optional' ? undefined : null;
      return (value) => (value === empty ? value : inner(value));
    }
    case 'array': {
      const bounds = lengthBounds(def);
      const element = parserOf(def.element);
      if (!bounds || !element) return null;
      const { min, max } = bounds;
      return (value) => {
        if (!Array.isArray(value) || value.length < min || value.length > max) return UNSURE;
        const out: unknown[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = i in value ? element(value[i]) : UNSURE;
          if (item === UNSURE) return UNSURE;
          out[i] = item;
        }
        return out;
      };
    }
    case 'object':
      return def.checks?.length ? null : objectParse(def.shape ?? {}, def.catchall === undefined);
    default:
      return null;
  }
}

/**
 * An object's parse: a plain object with each of the schema's keys that is not optional, each value passing its
 * field's parse; the output has the schema's keys in its order, as zod writes it. An unknown key is dropped when
 * zod drops it (the default); a strict or loose object with one is left to zod.
 */
function objectParse(shape: Readonly<Record<string, unknown>>, strips: boolean): Parse | null {
  const keys = Object.keys(shape);
  // Zod writes its output by assignment: a `__proto__` field would set the output's prototype, and a key that
  // Object.prototype has would be found on any object.
  if (keys.some((key) => key in Object.prototype)) return null;
  const fields: Parse[] = [];
  const optional: boolean[] = [];
  for (const key of keys) {
    const field = parserOf(shape[key]);
    if (!field) return null;
    fields.push(field);
    optional.push(defOf(shape[key])?.type === 'optional');
  }
  return (value) => {
    if (!isPlainObject(value)) return UNSURE;
    const out: Record<string, unknown> = {};
    let known = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (!Object.hasOwn(value, key)) {
        if (optional[i]) continue;
        return UNSURE;
      }
      known++;
      const field = fields[i]!(value[key]);
      if (field === UNSURE) return UNSURE;
      out[key] = field;
    }
    if (!strips && Object.keys(value).length !== known) return UNSURE;
    return out;
  };
}

/**
 * `schema.safeParse(value)`, with the plain check first: a value it settles
 * comes back as zod would give it (fresh objects and arrays, unknown keys
 * dropped, the schema's key order), any other goes through zod.
 *
 * @example
 * ```ts
 * const parsed = safeParse(tool.input, input); // as tool.input.safeParse(input), without zod's work for a plainly valid input
 * ```
 */
export function safeParse<S extends z.ZodType>(schema: S, value: unknown): z.ZodSafeParseResult<z.output<S>> {
  const plain = plainParse(schema, value);
  return plain ? { success: true, data: plain.data as z.output<S> } : schema.safeParse(value);
}

/** Zod's output for `value` when the plain check settles it (a valid value of a plain schema); undefined when zod must parse. */
export function plainParse(schema: z.ZodType, value: unknown): { readonly data: unknown } | undefined {
  const parse = parserOf(schema);
  const data = parse ? parse(value) : UNSURE;
  return data === UNSURE ? undefined : { data };
}
