/**
 * The simulated model's tool-input writer: a value valid for a JSON Schema,
 * using values found in the prompt where a property's name matches, and short
 * plausible generated values elsewhere.
 */
import type { Random } from '../util/random.js';
import { coerceValue } from './coerce.js';
import { conforms, isMultiple } from './conforms.js';
import { deref, isObject, mergeAllOf, num, strings, sub, subs, types, type JsonSchema, type SchemaObject } from './json-schema.js';
import { stringForPattern } from './pattern.js';
import { fitLength, pick, stringForFormat, stringForName } from './plausible.js';
import { collectPromptValues, type PromptValues } from './prompt-values.js';

interface Context {
  readonly root: JsonSchema;
  readonly values: PromptValues;
  readonly random: Random;
  usePrompt: boolean;
}

const DEEP = 6;
const TOO_DEEP = 16;

/**
 * Generates a value that validates against `schema`, taking values from the
 * prompt (embedded JSON, `Label: value` lines) where a property name matches.
 * Deterministic for a given `random`.
 * @example
 * fillFromSchema({ type: 'object', required: ['total'], properties: { total: { type: 'number' } } },
 *   'Total: 12,500.00', seededRandom(1)); // { total: 12500 }
 */
export function fillFromSchema(schema: JsonSchema, prompt: string | PromptValues, random: Random): unknown {
  const values = typeof prompt === 'string' ? collectPromptValues(prompt) : prompt;
  return fillNode({ root: schema, values, random, usePrompt: true }, schema, undefined, 0);
}

function fromPrompt(ctx: Context, s: SchemaObject, name: string | undefined): unknown {
  if (!ctx.usePrompt || name === undefined) return undefined;
  for (const candidate of ctx.values.lookup(name)) {
    const value = coerceValue(candidate, s);
    if (value !== undefined && conforms(ctx.root, s, value)) return value;
  }
  return undefined;
}

function fillNode(ctx: Context, schema: JsonSchema, name: string | undefined, depth: number): unknown {
  let s = deref(ctx.root, schema);
  if (typeof s === 'boolean') return s ? stringForName(name, ctx.random) : undefined;
  if (Array.isArray(s['allOf'])) s = mergeAllOf(ctx.root, s);
  const found = fromPrompt(ctx, s, name);
  if (found !== undefined) return found;
  if ('const' in s) return s['const'];
  const node = s;
  if (Array.isArray(node['enum'])) {
    const allowed = node['enum'].filter((v) => conforms(ctx.root, { ...node, enum: undefined }, v));
    return pick(allowed.length ? allowed : node['enum'], ctx.random);
  }
  const branches = [...subs(s, 'anyOf'), ...subs(s, 'oneOf')];
  if (branches.length) return fillBranches(ctx, s, branches, name, depth);
  if ('default' in s && conforms(ctx.root, s, s['default'])) return s['default'];
  switch (chooseType(s, ctx.random)) {
    case 'object': return fillObject(ctx, s, depth);
    case 'array': return fillArray(ctx, s, name, depth);
    case 'integer': return fillNumber(ctx, s, true);
    case 'number': return fillNumber(ctx, s, false);
    case 'boolean': return ctx.random() < 0.5;
    case 'null': return null;
    default: return fillString(ctx, s, name);
  }
}

function chooseType(s: SchemaObject, random: Random): string {
  const declared = types(s);
  const nonNull = declared.filter((t) => t !== 'null');
  if (declared.length) {
    if (nonNull.length === 0 || (nonNull.length < declared.length && random() < 0.1)) return 'null';
    return pick(nonNull, random);
  }
  if ('properties' in s || 'required' in s || 'additionalProperties' in s) return 'object';
  if ('items' in s || 'prefixItems' in s || 'minItems' in s) return 'array';
  if ('minimum' in s || 'maximum' in s || 'multipleOf' in s || 'exclusiveMinimum' in s) return 'number';
  return 'string';
}

function fillBranches(ctx: Context, s: SchemaObject, branches: JsonSchema[], name: string | undefined, depth: number): unknown {
  const { anyOf: _a, oneOf: _o, ...siblings } = s;
  const start = Math.floor(ctx.random() * branches.length);
  const ordered = branches.map((_, i) => branches[(start + i) % branches.length] as JsonSchema);
  const isNull = (b: JsonSchema): boolean => typeof b === 'object' && types(deref(ctx.root, b) as SchemaObject).join() === 'null';
  ordered.sort((a, b) => Number(isNull(a)) - Number(isNull(b)));
  let fallback: unknown;
  for (const branch of ordered) {
    const combined = { allOf: [siblings, branch] };
    const value = fillNode(ctx, combined, name, depth + 1);
    if (fallback === undefined) fallback = value;
    if (conforms(ctx.root, s, value)) return value;
  }
  return fallback;
}

function fillObject(ctx: Context, s: SchemaObject, depth: number): Record<string, unknown> {
  const props = isObject(s['properties']) ? (s['properties'] as Record<string, JsonSchema>) : {};
  const required = strings(s['required']);
  const additional = sub(s, 'additionalProperties');
  let keys = [...new Set([...Object.keys(props), ...required])];
  if (depth >= DEEP) keys = keys.filter((k) => required.includes(k));
  const maxProps = num(s, 'maxProperties') ?? Infinity;
  while (keys.length > maxProps) {
    const optional = keys.findLastIndex((k) => !required.includes(k));
    if (optional < 0) break;
    keys.splice(optional, 1);
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const propSchema = props[key] ?? additional ?? true;
    if (depth >= TOO_DEEP && !required.includes(key)) continue;
    const value = fillNode(ctx, propSchema, key, depth + 1);
    if (value !== undefined) out[key] = value;
  }
  const minProps = num(s, 'minProperties') ?? 0;
  for (let i = 1; Object.keys(out).length < minProps && additional !== false && i < 100; i++) {
    const key = `extra${i}`;
    if (!(key in out)) out[key] = fillNode(ctx, additional ?? true, key, depth + 1);
  }
  return out;
}

function fillArray(ctx: Context, s: SchemaObject, name: string | undefined, depth: number): unknown[] {
  const prefix = subs(s, 'prefixItems');
  const items = sub(s, 'items');
  const min = num(s, 'minItems') ?? 0;
  let max = num(s, 'maxItems') ?? Infinity;
  if (items === false) max = Math.min(max, prefix.length);
  const base = prefix.length || (depth >= DEEP ? 0 : 1 + Math.floor(ctx.random() * 2));
  const length = Math.max(min, Math.min(base, max));
  const unique = s['uniqueItems'] === true;
  const out: unknown[] = [];
  const saved = ctx.usePrompt;
  for (let i = 0; i < length; i++) {
    const itemSchema = prefix[i] ?? items ?? true;
    let value = fillNode(ctx, itemSchema, singular(name), depth + 1);
    for (let attempt = 0; unique && attempt < 12 && out.some((v) => conforms(true, { const: v }, value)); attempt++) {
      ctx.usePrompt = false;
      value = fillNode(ctx, itemSchema, undefined, depth + 1);
    }
    ctx.usePrompt = saved;
    out.push(value);
  }
  return out;
}

function singular(name: string | undefined): string | undefined {
  return name === undefined ? undefined : name.replace(/(ies)$/, 'y').replace(/s$/, '');
}

function fillString(ctx: Context, s: SchemaObject, name: string | undefined): string {
  const min = num(s, 'minLength') ?? 0;
  const max = num(s, 'maxLength') ?? Infinity;
  const pattern = s['pattern'];
  const format = typeof s['format'] === 'string' ? stringForFormat(s['format'], ctx.random) : undefined;
  if (format !== undefined && conforms(ctx.root, s, format)) return format;
  if (typeof pattern === 'string') {
    const matched = stringForPattern(pattern, ctx.random, min, max);
    if (matched !== undefined) return matched;
  }
  if (format !== undefined && format.length >= min && format.length <= max) return format;
  const text = fitLength(stringForName(name, ctx.random), min, Math.min(max, 40 + min), ctx.random);
  if (conforms(ctx.root, s, text)) return text;
  for (let attempt = 0; attempt < 8; attempt++) {
    const other = fitLength(stringForName(undefined, ctx.random), min, max, ctx.random);
    if (conforms(ctx.root, s, other)) return other;
  }
  return text;
}

function bounds(s: SchemaObject, integer: boolean): { lo: number; hi: number } {
  const exMin = s['exclusiveMinimum'];
  const exMax = s['exclusiveMaximum'];
  let lo = -Infinity;
  let hi = Infinity;
  const step = integer ? 1 : 0.01;
  const min = num(s, 'minimum');
  const max = num(s, 'maximum');
  if (min !== undefined) lo = exMin === true ? min + step : min;
  if (max !== undefined) hi = exMax === true ? max - step : max;
  if (typeof exMin === 'number') lo = Math.max(lo, integer ? Math.floor(exMin) + 1 : exMin + Math.max(step, Math.abs(exMin) * 1e-9));
  if (typeof exMax === 'number') hi = Math.min(hi, integer ? Math.ceil(exMax) - 1 : exMax - Math.max(step, Math.abs(exMax) * 1e-9));
  if (integer) [lo, hi] = [Math.ceil(lo), Math.floor(hi)];
  if (lo === -Infinity && hi === Infinity) [lo, hi] = integer ? [1, 100] : [1, 1000];
  else if (lo === -Infinity) lo = hi - 100;
  else if (hi === Infinity) hi = lo + 100;
  if (hi - lo > 1000) {
    const start = Math.min(Math.max(lo, integer ? 1 : 0), hi);
    return start + 1000 <= hi ? { lo: start, hi: start + 1000 } : { lo: hi - 1000, hi };
  }
  return { lo, hi };
}

function fillNumber(ctx: Context, s: SchemaObject, integer: boolean): number {
  const { lo, hi } = bounds(s, integer);
  const multiple = num(s, 'multipleOf');
  const ok = (v: number): boolean => (!integer || Number.isInteger(v)) && conforms(ctx.root, { ...s, type: undefined }, v);
  for (let attempt = 0; attempt < 30; attempt++) {
    let v: number;
    if (multiple !== undefined && multiple > 0) {
      const kLo = Math.ceil(lo / multiple);
      const kHi = Math.floor(hi / multiple);
      const k = kHi >= kLo ? kLo + Math.floor(ctx.random() * (kHi - kLo + 1)) : kLo;
      v = Number((k * multiple).toPrecision(12));
      if (!isMultiple(v, multiple)) v = k * multiple;
    } else {
      const r = lo + ctx.random() * (hi - lo);
      v = integer ? Math.round(r) : Math.round(r * 100) / 100;
      if (v < lo || v > hi) v = integer ? Math.ceil(lo) : r;
    }
    if (ok(v)) return v;
  }
  return integer ? Math.ceil(lo) : lo;
}
