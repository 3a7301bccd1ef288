/**
 * Turns zod issues into messages a definition author can act on: what was
 * expected and what was found, unknown keys with a suggestion, missing fields
 * by name. Paths stay relative to the schema that was parsed.
 */
import type { z } from 'zod';
import type { PathSegment } from './locate.js';
import { didYouMean } from './suggest.js';

/** A problem found by a schema, before it is located in a file. */
export interface RawIssue {
  readonly path: readonly PathSegment[];
  readonly message: string;
  /** Locate the key of the last segment (unknown keys) rather than its value. */
  readonly at: 'key' | 'value';
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
  getter?: () => z.ZodType;
  options?: readonly z.ZodType[];
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/**
 * The schema of the value at `path` under `schema`, through optionals, objects, records, arrays and lazy schemas;
 * through a union of objects (a step of any kind, in a branch or a map body) when `data` is given: the object
 * whose keys the value at that point shares most (a `tool` step's schema for `{ tool, with, nxt }`).
 */
export function schemaAt(schema: z.ZodType | undefined, path: readonly PathSegment[], data?: unknown): z.ZodType | undefined {
  let current = schema;
  for (let i = 0; current && i <= path.length; ) {
    const def = defOf(current);
    const wrapped = def.innerType ?? (def.type === 'pipe' ? def.in : def.type === 'lazy' ? def.getter?.() : undefined);
    if (wrapped) {
      current = wrapped;
      continue;
    }
    if (def.type === 'union') {
      current = closestObject(def.options ?? [], valueAt(data, path.slice(0, i)));
      continue;
    }
    if (i === path.length) break;
    const segment = path[i++];
    if (def.type === 'object') current = def.shape?.[String(segment)];
    else if (def.type === 'record') current = def.valueType;
    else if (def.type === 'array') current = def.element;
    else return undefined;
  }
  return current;
}

/** The object schema among `options` that shares the most keys with `value`, when exactly one does. */
function closestObject(options: readonly z.ZodType[], value: unknown): z.ZodType | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const keys = Object.keys(value);
  const scored = options.map((option) => ({ option, shared: keys.filter((key) => objectKeys(option).includes(key)).length }));
  const best = Math.max(0, ...scored.map((s) => s.shared));
  const found = scored.filter((s) => s.shared === best);
  return best > 0 && found.length === 1 ? found[0]!.option : undefined;
}

/** The keys an object schema allows. */
export function objectKeys(schema: z.ZodType | undefined): string[] {
  const def = schema && defOf(schema);
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

/** The value at `path` in `data`, or `undefined`. */
export function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current = data;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** `string`, `number`, `boolean`, `null`, `array`, `object`. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const expectedNames: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  record: 'an object',
  array: 'an array',
  null: 'null',
};

const show = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));

/** What a value of the wrong type is: its type, but a number itself (`1.5` where an integer goes; YAML's `.inf`, `.nan` are not finite). */
const found = (value: unknown): string =>
  typeof value !== 'number' ? typeName(value) : Number.isFinite(value) ? String(value) : `${value}, which is not a finite number`;

/**
 * Messages for the issues of parsing `data` with `schema`.
 *
 * @example
 * ```ts
 * const result = ClaudeStep.safeParse(step);
 * if (!result.success) describeIssues(result.error.issues, ClaudeStep, step);
 * // [{ path: ['nxt'], message: 'unknown key "nxt"; did you mean "next"?', at: 'key' }]
 * ```
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, data: unknown): RawIssue[] {
  return issues.flatMap((issue) => describe(issue, [], schema, data));
}

function describe(issue: z.core.$ZodIssue, base: readonly PathSegment[], schema: z.ZodType, data: unknown): RawIssue[] {
  const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  const value = valueAt(data, path);
  const one = (message: string, at: 'key' | 'value' = 'value'): RawIssue[] => [{ path, message, at }];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = objectKeys(schemaAt(schema, path, data));
      return issue.keys.map((key) => {
        const hint = didYouMean(key, allowed) || (allowed.length ? `; expected one of: ${allowed.join(', ')}` : '');
        return { path: [...path, key], message: `unknown key ${JSON.stringify(key)}${hint}`, at: 'key' as const };
      });
    }
    case 'invalid_type':
      if (value === undefined) return one(`missing required field ${JSON.stringify(String(path.at(-1) ?? ''))}`);
      return one(`expected ${expectedNames[issue.expected] ?? issue.expected}, got ${found(value)}`);
    case 'invalid_union': {
      // Follow the one branch whose type matched, so e.g. a malformed duration says what a duration looks like.
      const matched = issue.errors.filter((branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0));
      if (matched.length === 1) return matched[0]!.flatMap((inner) => describe(inner, path, schema, data));
      const expected = issue.errors.flatMap((branch) => branch.flatMap((i) => (i.code === 'invalid_type' && i.path.length === 0 ? [expectedNames[i.expected] ?? i.expected] : [])));
      return one(expected.length ? `expected ${[...new Set(expected)].join(' or ')}, got ${typeName(value)}` : issue.message);
    }
    case 'invalid_format':
      return one(/^Invalid/.test(issue.message) ? issue.message : `expected ${issue.message}, got ${show(value)}`);
    case 'invalid_value':
      return one(`expected ${issue.values.map((v) => show(v)).join(' or ')}, got ${show(value)}`);
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const limit = small ? issue.minimum : issue.maximum;
      const op = `${small ? '>' : '<'}${issue.inclusive ? '=' : ''}`;
      if (issue.origin === 'string' && small && Number(limit) === 1) return one('must not be empty');
      if (issue.origin === 'array') return one(`expected ${small ? 'at least' : 'at most'} ${limit} item(s), got ${(value as unknown[]).length}`);
      if (issue.origin === 'string') return one(`expected ${small ? 'at least' : 'at most'} ${limit} characters`);
      return one(`expected a number ${op} ${limit}, got ${show(value)}`);
    }
    case 'invalid_key': {
      const key = String(path.at(-1) ?? '');
      const inner = issue.issues[0]?.message ?? 'invalid key';
      return one(`invalid key ${JSON.stringify(key)}: expected ${inner}`, 'key');
    }
    default:
      return one(issue.message);
  }
}
