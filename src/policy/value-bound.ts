/**
 * Upper bounds, in tokens of the one counter, of the run data a prompt holds:
 * a `context:` value sized from the JSON Schema of what it references (the
 * workflow's `input`, a tool's output schema, an `analyze` step's schema).
 * Where nothing bounds a value the result names the field that is unbounded.
 *
 * Counting is sound because the counter never charges a concatenation more
 * than its parts (pieces of one class only merge), and the prompt is counted
 * as JSON: a printable character costs at most one token, and JSON's escapes
 * of `"`, `\`, `\n`, `\t`, `\r` at most two ({@link TOKENS_PER_CHAR}). Other
 * control characters (escaped `\u00XX`, up to four tokens) are assumed absent
 * from run data.
 */
import { countTokens } from '../model/tokens.js';

/** Tokens a character of run data may cost in the counted prompt (see the module comment). */
export const TOKENS_PER_CHAR = 2;

/** Tokens any JSON number may cost: `-1.2345678901234567e-308` is 12. */
export const NUMBER_TOKENS = 12;

/** A bound in tokens, or the path of the field that has none. */
export type Bound = { readonly tokens: number } | { readonly unbounded: string };

const bounded = (tokens: number): Bound => ({ tokens });
const sum = (parts: readonly Bound[]): Bound => {
  let tokens = 0;
  for (const part of parts) {
    if ('unbounded' in part) return part;
    tokens += part.tokens;
  }
  return bounded(tokens);
};
const max = (parts: readonly Bound[]): Bound => {
  let tokens = 0;
  for (const part of parts) {
    if ('unbounded' in part) return part;
    tokens = Math.max(tokens, part.tokens);
  }
  return bounded(tokens);
};

/** Tokens of a known value as a context value shows it (indented JSON, inside the JSON of the request), plus one for a boundary. */
export function constantTokens(value: unknown): number {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 1) ?? 'null';
  return countTokens(JSON.stringify(text)) + 1;
}

/**
 * A schema made by Stepwise for a value nothing describes (e.g. a map body's
 * `$input` field computed by an expression) says why under this key, and
 * {@link schemaBound} names the reason.
 */
export const UNBOUNDED = 'x-stepwise-unbounded';

/** Tokens of a line break and indentation in indented JSON, as the request's JSON escapes it (`\n` and spaces). */
const LINE = 2;

/**
 * The most tokens a value valid against `schema` may cost in a prompt, at
 * `path` (for the message when it is unbounded): strings by `maxLength`
 * (or `enum`/`const`), arrays by `maxItems`, objects by their properties when
 * `additionalProperties` is false; numbers, booleans and null always.
 */
export function schemaBound(schema: unknown, path: string): Bound {
  if (typeof schema !== 'object' || schema === null) return schema === false ? bounded(0) : { unbounded: path };
  const s = schema as Record<string, unknown>;
  if (typeof s[UNBOUNDED] === 'string') return { unbounded: `${path} (${s[UNBOUNDED]})` };
  if ('const' in s) return bounded(constantTokens(s['const']));
  if (Array.isArray(s['enum'])) return bounded(Math.max(0, ...s['enum'].map(constantTokens)));
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = s[key];
    if (Array.isArray(options)) return max(options.map((option, i) => schemaBound(option, `${path} (${key}[${i}])`)));
  }
  const type = s['type'];
  if (Array.isArray(type)) return max(type.map((t) => schemaBound({ ...s, type: t }, path)));
  switch (type) {
    case 'string': {
      const maxLength = s['maxLength'];
      return typeof maxLength === 'number' ? bounded(TOKENS_PER_CHAR * maxLength + 2) : { unbounded: `${path} (a string without maxLength)` };
    }
    case 'number':
    case 'integer':
      return bounded(NUMBER_TOKENS);
    case 'boolean':
    case 'null':
      return bounded(1);
    case 'array': {
      const maxItems = s['maxItems'];
      if (typeof maxItems !== 'number') return { unbounded: `${path} (an array without maxItems)` };
      if (maxItems === 0) return bounded(2);
      const item = schemaBound(s['items'], `${path}[]`);
      return 'unbounded' in item ? item : bounded(2 + LINE + maxItems * (item.tokens + 1 + LINE));
    }
    case 'object': {
      const properties = (s['properties'] ?? {}) as Record<string, unknown>;
      if (s['additionalProperties'] !== false || s['patternProperties'] !== undefined) {
        return { unbounded: `${path} (an object that allows additional properties)` };
      }
      const entries = Object.entries(properties).map(([key, value]) => {
        const inner = schemaBound(value, `${path}.${key}`);
        return 'unbounded' in inner ? inner : bounded(inner.tokens + constantTokens(key) + 1 + LINE);
      });
      return sum([bounded(2 + LINE), ...entries]);
    }
    default:
      return { unbounded: `${path} (no type)` };
  }
}

/** The schema of `field` (a `.`-path of property names) inside `schema`, or undefined where the schema does not say. */
export function schemaAt(schema: unknown, fields: readonly string[]): unknown {
  let at: unknown = schema;
  for (const field of fields) {
    if (typeof at !== 'object' || at === null) return undefined;
    // A constant object's field is a constant too.
    const known = (at as { const?: unknown }).const;
    if (typeof known === 'object' && known !== null && !Array.isArray(known)) {
      if (!Object.prototype.hasOwnProperty.call(known, field)) return undefined;
      at = { const: (known as Record<string, unknown>)[field] };
      continue;
    }
    const properties = (at as { properties?: Record<string, unknown> }).properties;
    if (!properties || !Object.prototype.hasOwnProperty.call(properties, field)) return undefined;
    at = properties[field];
  }
  return at;
}

export { sum as sumBounds, max as maxBounds };
