/**
 * A small JSON Schema checker for the subset in json-schema.ts. The filler
 * uses it to accept prompt values only when they fit, and the invalid-input
 * fault uses it to make sure its input really is invalid.
 */
import { deref, isObject, num, strings, sub, subs, types, type JsonSchema, type SchemaObject } from './json-schema.js';

const formats: Record<string, RegExp> = {
  date: /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/,
  'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i,
  time: /^\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$/i,
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  uri: /^[a-z][a-z\d+.-]*:[^\s]*$/i,
  url: /^[a-z][a-z\d+.-]*:[^\s]*$/i,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  ipv4: /^(\d{1,3}\.){3}\d{1,3}$/,
};

/** Checks a string against a known `format`; unknown formats pass. */
export function matchesFormat(format: string, value: string): boolean {
  const re = formats[format];
  return re === undefined || re.test(value);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Deep equality on JSON values (for enum, const and uniqueItems). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** True when `value / m` is a whole number, with the same float test as ajv. */
export function isMultiple(value: number, m: number): boolean {
  const q = value / m;
  return q === parseInt(String(q), 10);
}

function checkNumber(s: SchemaObject, v: number): boolean {
  const min = num(s, 'minimum');
  const max = num(s, 'maximum');
  const exMin = s['exclusiveMinimum'];
  const exMax = s['exclusiveMaximum'];
  if (min !== undefined && (exMin === true ? v <= min : v < min)) return false;
  if (max !== undefined && (exMax === true ? v >= max : v > max)) return false;
  if (typeof exMin === 'number' && v <= exMin) return false;
  if (typeof exMax === 'number' && v >= exMax) return false;
  const m = num(s, 'multipleOf');
  return m === undefined || m <= 0 || isMultiple(v, m);
}

function checkString(s: SchemaObject, v: string): boolean {
  const len = [...v].length;
  if (len < (num(s, 'minLength') ?? 0) || len > (num(s, 'maxLength') ?? Infinity)) return false;
  const pattern = s['pattern'];
  if (typeof pattern === 'string') {
    try {
      if (!new RegExp(pattern, 'u').test(v)) return false;
    } catch {
      /* an unsupported pattern does not reject */
    }
  }
  const format = s['format'];
  return typeof format !== 'string' || matchesFormat(format, v);
}

function checkArray(root: JsonSchema, s: SchemaObject, v: unknown[], depth: number): boolean {
  if (v.length < (num(s, 'minItems') ?? 0) || v.length > (num(s, 'maxItems') ?? Infinity)) return false;
  const prefix = subs(s, 'prefixItems');
  const items = sub(s, 'items');
  for (let i = 0; i < v.length; i++) {
    const itemSchema = i < prefix.length ? prefix[i] : items;
    if (itemSchema !== undefined && !conforms(root, itemSchema, v[i], depth + 1)) return false;
  }
  if (s['uniqueItems'] === true) {
    for (let i = 0; i < v.length; i++) for (let j = i + 1; j < v.length; j++) if (jsonEqual(v[i], v[j])) return false;
  }
  return true;
}

function checkObject(root: JsonSchema, s: SchemaObject, v: Record<string, unknown>, depth: number): boolean {
  const keys = Object.keys(v);
  if (keys.length < (num(s, 'minProperties') ?? 0) || keys.length > (num(s, 'maxProperties') ?? Infinity)) return false;
  if (strings(s['required']).some((k) => !(k in v))) return false;
  const props = isObject(s['properties']) ? s['properties'] : {};
  const additional = sub(s, 'additionalProperties');
  for (const key of keys) {
    const propSchema = key in props ? (props[key] as JsonSchema) : additional;
    if (propSchema !== undefined && !conforms(root, propSchema, v[key], depth + 1)) return false;
  }
  return true;
}

/**
 * Does `value` satisfy `schema`? `root` resolves `$ref`s.
 * @example
 * conforms(schema, schema, { total: 12500 }); // true or false
 */
export function conforms(root: JsonSchema, schema: JsonSchema, value: unknown, depth = 0): boolean {
  if (depth > 64) return true;
  const s = deref(root, schema);
  if (typeof s === 'boolean') return s;
  const t = types(s);
  const actual = typeOf(value);
  if (t.length && !t.includes(actual) && !(actual === 'integer' && t.includes('number'))) return false;
  if (Array.isArray(s['enum']) && !s['enum'].some((e) => jsonEqual(e, value))) return false;
  if ('const' in s && !jsonEqual(s['const'], value)) return false;
  if (typeof value === 'number' && !checkNumber(s, value)) return false;
  if (typeof value === 'string' && !checkString(s, value)) return false;
  if (Array.isArray(value) && !checkArray(root, s, value, depth)) return false;
  if (isObject(value) && !checkObject(root, s, value, depth)) return false;
  if (!subs(s, 'allOf').every((x) => conforms(root, x, value, depth + 1))) return false;
  const anyOf = subs(s, 'anyOf');
  if (anyOf.length && !anyOf.some((x) => conforms(root, x, value, depth + 1))) return false;
  const oneOf = subs(s, 'oneOf');
  if (oneOf.length && oneOf.filter((x) => conforms(root, x, value, depth + 1)).length !== 1) return false;
  const not = sub(s, 'not');
  return not === undefined || !conforms(root, not, value, depth + 1);
}
