/**
 * A check of JSON input against the plain JSON Schemas most workflow inputs
 * use (types, properties, required, lengths, bounds, enum, const, items,
 * pattern), so a run whose input is valid does not load and set up Ajv (a
 * noticeable part of a CLI start). It only ever answers "valid": for any
 * keyword or schema shape it does not know in full, and for any input it
 * finds invalid, it answers undefined and the caller asks Ajv, whose verdict
 * and messages stay the ones users see. So it must never call valid what Ajv
 * (2020-12, not strict, validating the schema first) rejects; a property test
 * holds it to that. A `pattern` is matched as Ajv matches it here, by RE2 in
 * linear time (src/expr/regex.ts), whatever the input.
 */
import { LinearRegExp, unmatchableReason } from '../expr/regex.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const simpleTypes = new Set(['null', 'boolean', 'object', 'array', 'number', 'string', 'integer']);
/** Keywords with no effect on validation, and the values the meta-schema allows them. */
const annotations: Record<string, (rule: unknown) => boolean> = {
  title: (rule) => typeof rule === 'string',
  description: (rule) => typeof rule === 'string',
  $comment: (rule) => typeof rule === 'string',
  deprecated: (rule) => typeof rule === 'boolean',
  readOnly: (rule) => typeof rule === 'boolean',
  writeOnly: (rule) => typeof rule === 'boolean',
  default: () => true,
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isCount = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  // Plain objects only (as JSON makes): Ajv's deep equality tells other prototypes apart, or throws on them.
  const plain = (x: Record<string, unknown>) => Object.getPrototypeOf(x) === Object.prototype;
  if (isObject(a) && isObject(b) && plain(a) && plain(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

function hasType(value: Json, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'number':
      return isNumber(value);
    case 'integer':
      return isNumber(value) && Number.isInteger(value);
    case 'array':
      return Array.isArray(value);
    default:
      return isObject(value);
  }
}

const isSchema = (rule: unknown): boolean => typeof rule === 'boolean' || wellFormed(rule);

/** Whether `schema` uses only the keywords known here, each as the 2020-12 meta-schema allows. */
function wellFormed(schema: unknown): boolean {
  if (typeof schema === 'boolean') return true;
  if (!isObject(schema)) return false;
  return Object.entries(schema).every(([keyword, rule]) => {
    if (Object.hasOwn(annotations, keyword)) return annotations[keyword]!(rule);
    switch (keyword) {
      case 'type': {
        const types = Array.isArray(rule) ? rule : [rule];
        return types.length > 0 && new Set(types).size === types.length && types.every((t) => typeof t === 'string' && simpleTypes.has(t));
      }
      case 'enum': // Ajv refuses an empty one
        return Array.isArray(rule) && rule.length > 0;
      case 'const':
        return true;
      case 'minLength':
      case 'maxLength':
      case 'minItems':
      case 'maxItems':
        return isCount(rule);
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        return isNumber(rule);
      case 'pattern':
        return typeof rule === 'string' && unmatchableReason(rule, 'u') === null;
      case 'required':
        return Array.isArray(rule) && new Set(rule).size === rule.length && rule.every((k) => typeof k === 'string');
      case 'items':
      case 'additionalProperties':
        return isSchema(rule);
      case 'properties':
        return isObject(rule) && Object.values(rule).every(isSchema);
      default:
        return false;
    }
  });
}

function length(text: string): number {
  return [...text].length;
}

/** Whether `value` matches the well-formed `schema`. */
function matches(schema: unknown, value: Json): boolean {
  if (typeof schema === 'boolean') return schema;
  const rules = schema as Record<string, unknown>;
  const object = isObject(value) ? (value as Record<string, Json>) : undefined;
  const num = isNumber(value) ? value : undefined;
  return Object.entries(rules).every(([keyword, rule]) => {
    switch (keyword) {
      case 'type':
        return (Array.isArray(rule) ? rule : [rule]).some((t) => hasType(value, t as string));
      case 'enum':
        return (rule as unknown[]).some((option) => jsonEqual(option, value));
      case 'const':
        return jsonEqual(rule, value);
      case 'minLength':
        return typeof value !== 'string' || length(value) >= (rule as number);
      case 'maxLength':
        return typeof value !== 'string' || length(value) <= (rule as number);
      case 'pattern':
        return typeof value !== 'string' || new LinearRegExp(rule as string, 'u').test(value);
      case 'minimum':
        return num === undefined || num >= (rule as number);
      case 'maximum':
        return num === undefined || num <= (rule as number);
      case 'exclusiveMinimum':
        return num === undefined || num > (rule as number);
      case 'exclusiveMaximum':
        return num === undefined || num < (rule as number);
      case 'minItems':
        return !Array.isArray(value) || value.length >= (rule as number);
      case 'maxItems':
        return !Array.isArray(value) || value.length <= (rule as number);
      case 'items':
        return !Array.isArray(value) || value.every((item) => matches(rule, item));
      case 'required':
        return object === undefined || (rule as string[]).every((k) => object[k] !== undefined && Object.hasOwn(object, k));
      case 'properties':
        return object === undefined || Object.entries(rule as Record<string, unknown>).every(([k, sub]) => !Object.hasOwn(object, k) || matches(sub, object[k]!));
      case 'additionalProperties': {
        const declared = isObject(rules['properties']) ? rules['properties'] : {};
        return object === undefined || Object.keys(object).every((k) => Object.hasOwn(declared, k) || matches(rule, object[k]!));
      }
      default:
        return true; // annotations
    }
  });
}

/**
 * True when `schema` uses only the keywords this check knows, each as the 2020-12 meta-schema allows, so Ajv
 * compiles it; false when Ajv must decide.
 */
export function plainSchemaWellFormed(schema: unknown): boolean {
  return wellFormed(schema);
}

/**
 * True when `value` (JSON data) certainly matches `schema` and Ajv would
 * accept both; undefined when Ajv must decide.
 *
 * @example
 * ```ts
 * if (plainSchemaAccepts(schema, input) !== true) (await ajv()).compile(schema)(input);
 * ```
 */
export function plainSchemaAccepts(schema: unknown, value: unknown): true | undefined {
  return wellFormed(schema) && matches(schema, value as Json) ? true : undefined;
}
