/**
 * Coerces a value found in a prompt to what a schema node wants:
 * `"12,500.00"` to `12500` for a number, `"yes"` to `true`, a list to an array.
 * The caller still checks the result against the schema.
 */
import { isObject, sub, types, type SchemaObject } from './json-schema.js';
import { normaliseName } from './prompt-values.js';

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const cleaned = value.trim().replace(/^[A-Z]{3}\s*/, '').replace(/[\s,$€£¥%]|\s*[A-Z]{3}$/g, '');
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(cleaned) ? Number(cleaned) : undefined;
}

function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  if (['true', 'yes', 'y', '1', 'on'].includes(v)) return true;
  if (['false', 'no', 'n', '0', 'off'].includes(v)) return false;
  return undefined;
}

function toArray(value: unknown, schema: SchemaObject): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed)) return parsed;
  } catch {
    /* a plain list */
  }
  const items = sub(schema, 'items');
  const parts = value.split(/\s*[;,]\s*/).filter((p) => p !== '');
  if (items === undefined || typeof items === 'boolean') return parts;
  const out = parts.map((p) => coerceValue(p, items));
  return out.every((v) => v !== undefined) ? out : undefined;
}

function inferTypes(schema: SchemaObject): string[] {
  const declared = types(schema);
  if (declared.length) return declared;
  const pool = Array.isArray(schema['enum']) ? schema['enum'] : 'const' in schema ? [schema['const']] : [];
  const inferred = pool.map((v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v));
  return inferred.length ? [...new Set(inferred)] : ['string', 'number', 'boolean', 'array', 'object'];
}

/**
 * The prompt value converted for `schema`, or undefined when it can't be.
 * @example
 * coerceValue('12,500.00', { type: 'number' }); // 12500
 */
export function coerceValue(value: unknown, schema: SchemaObject | boolean): unknown {
  if (typeof schema === 'boolean') return schema ? value : undefined;
  const choices = Array.isArray(schema['enum']) ? schema['enum'] : undefined;
  if (choices && typeof value === 'string') {
    const wanted = normaliseName(value);
    const hit = choices.find((c) => typeof c === 'string' && normaliseName(c) === wanted);
    if (hit !== undefined) return hit;
  }
  for (const type of inferTypes(schema)) {
    switch (type) {
      case 'integer': {
        const n = toNumber(value);
        if (n !== undefined && Number.isInteger(n)) return n;
        break;
      }
      case 'number': {
        const n = toNumber(value);
        if (n !== undefined) return n;
        break;
      }
      case 'string':
        if (typeof value === 'string') return value.trim();
        if (typeof value === 'number' || typeof value === 'boolean') return String(value);
        break;
      case 'boolean': {
        const b = toBoolean(value);
        if (b !== undefined) return b;
        break;
      }
      case 'array': {
        const a = toArray(value, schema);
        if (a !== undefined) return a;
        break;
      }
      case 'object':
        if (isObject(value)) return value;
        break;
      case 'null':
        if (value === null || value === 'null') return null;
        break;
    }
  }
  return undefined;
}
