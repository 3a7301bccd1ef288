/**
 * The JSON Schema subset the emulator understands: types, `$ref` resolution
 * and `allOf` merging, shared by the filler and the conformance check.
 */

/** A JSON Schema node (or a boolean schema). */
export type JsonSchema = boolean | SchemaObject;

/** An object schema; keywords are read defensively, any may be missing. */
export interface SchemaObject {
  readonly [keyword: string]: unknown;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a keyword as a schema, or undefined. */
export function sub(schema: SchemaObject, key: string): JsonSchema | undefined {
  const value = schema[key];
  return typeof value === 'boolean' || isObject(value) ? value : undefined;
}

/** Reads a keyword as a list of schemas. */
export function subs(schema: SchemaObject, key: string): JsonSchema[] {
  const value = schema[key];
  return Array.isArray(value) ? value.filter((s): s is JsonSchema => typeof s === 'boolean' || isObject(s)) : [];
}

export function num(schema: SchemaObject, key: string): number | undefined {
  const value = schema[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The declared types of a node (`type` as a string or an array). */
export function types(schema: SchemaObject): string[] {
  const t = schema['type'];
  if (typeof t === 'string') return [t];
  return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : [];
}

/** Resolves a local `$ref` (`#`, `#/$defs/x`, `#/definitions/x`, any JSON pointer). */
export function resolveRef(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith('#')) return undefined;
  const pointer = ref.slice(1);
  let node: unknown = root;
  if (pointer === '') return root;
  for (const raw of pointer.replace(/^\//, '').split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObject(node)) node = node[key];
    else return undefined;
  }
  return typeof node === 'boolean' || isObject(node) ? node : undefined;
}

/** Follows `$ref` chains (at most a few hops); sibling keywords win over the target. */
export function deref(root: JsonSchema, schema: JsonSchema): JsonSchema {
  let current = schema;
  for (let hop = 0; hop < 8 && typeof current === 'object' && typeof current['$ref'] === 'string'; hop++) {
    const target = resolveRef(root, current['$ref']);
    if (target === undefined) return { ...current, $ref: undefined };
    const { $ref: _ref, ...rest } = current;
    current = typeof target === 'boolean' ? (target && Object.keys(rest).length ? rest : target) : { ...target, ...rest };
  }
  return current;
}

function intersectTypes(a: string[], b: string[]): string[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const widened = (list: string[]) => (list.includes('number') ? [...list, 'integer'] : list);
  const both = widened(a).filter((t) => widened(b).includes(t));
  return both.includes('number') && !(a.includes('number') && b.includes('number')) ? both.filter((t) => t !== 'number') : both;
}

/**
 * Merges `allOf` branches into one node so one value can be generated for all
 * of them (properties and `required` united, bounds tightened). Best effort.
 */
export function mergeAllOf(root: JsonSchema, schema: SchemaObject): SchemaObject {
  const parts = subs(schema, 'allOf').map((s) => deref(root, s));
  const { allOf: _allOf, ...base } = schema;
  let merged: Record<string, unknown> = { ...base };
  for (const part of parts) {
    if (typeof part === 'boolean') continue;
    const inner = part['allOf'] !== undefined ? mergeAllOf(root, part) : part;
    const next: Record<string, unknown> = { ...inner, ...merged };
    const t = intersectTypes(types(merged), types(inner));
    if (t.length) next['type'] = t.length === 1 ? t[0] : t;
    const props = { ...(isObject(inner['properties']) ? inner['properties'] : {}), ...(isObject(merged['properties']) ? merged['properties'] : {}) };
    if (Object.keys(props).length) next['properties'] = props;
    const req = [...new Set([...strings(inner['required']), ...strings(merged['required'])])];
    if (req.length) next['required'] = req;
    for (const k of ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties']) {
      const vals = [merged[k], inner[k]].filter((v): v is number => typeof v === 'number');
      if (vals.length) next[k] = Math.max(...vals);
    }
    for (const k of ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties']) {
      const vals = [merged[k], inner[k]].filter((v): v is number => typeof v === 'number');
      if (vals.length) next[k] = Math.min(...vals);
    }
    if (inner['additionalProperties'] === false || merged['additionalProperties'] === false) next['additionalProperties'] = false;
    merged = next;
  }
  return merged;
}

export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
}
