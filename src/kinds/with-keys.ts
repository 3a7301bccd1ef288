/**
 * The keys of a `with:` mapping against the input schema of its tool (the JSON Schema of the tool's zod input):
 * a key the schema does not declare, with the field it was likely meant to be, and the required fields no key
 * gives. Shared by a `claude` step's `with:` (some fields) and a `tool` step's (the whole input).
 */
import { closestMatch } from '../definition/suggest.js';
import type { PathSegment } from '../definition/locate.js';
import { requiredFields, schemaProperties } from '../steps/partial-input.js';
import type { KindFinding, ToolSchema } from './types.js';

/** A key of `with:` that is not a field of the tool input, and the field it is closest to, if any. */
export interface UnknownKey {
  readonly key: string;
  readonly suggestion: string | undefined;
}

/** Whether the schema is an object schema whose fields are listed (not `any`, not a union): only then are keys checked. */
export function listsFields(schema: Record<string, unknown>): boolean {
  return schema['type'] === 'object' && typeof schema['properties'] === 'object' && schema['properties'] !== null;
}

/** Whether the schema lets keys it does not declare through (a loose object, a catchall); a plain object strips them, a strict one refuses them. */
export function takesOtherKeys(schema: Record<string, unknown>): boolean {
  const extra = schema['additionalProperties'];
  return extra === true || (typeof extra === 'object' && extra !== null);
}

/** The keys that are not fields of `schema`, each with a did-you-mean among the fields. */
export function unknownKeys(keys: readonly string[], schema: Record<string, unknown>): UnknownKey[] {
  const fields = schemaProperties(schema);
  return keys.filter((key) => !fields.includes(key)).map((key) => ({ key, suggestion: closestMatch(key, fields) }));
}

/** `"okk" is not a field of the input of tool flaky; did you mean "ok"? (its fields: ok, label)` */
export function unknownKeyFinding(unknown: UnknownKey, tool: ToolSchema, path: readonly PathSegment[], rule = ''): KindFinding {
  const fields = schemaProperties(tool.input_schema);
  const hint = unknown.suggestion === undefined ? '' : `; did you mean "${unknown.suggestion}"?`;
  return {
    path: [...path, unknown.key],
    message: `"${unknown.key}" is not a field of the input of tool ${tool.name}${hint} (its fields: ${fields.length ? fields.join(', ') : 'none'})${rule}`,
  };
}

/**
 * The findings of a `tool` step's `with:` mapping (the whole tool input): its keys the schema does not declare
 * (unless it takes other keys), and the required fields no key gives, leaving out a field a misspelt key was
 * suggested for (one mistake, one issue). Only a `with:` that is a mapping is given here, or none (`undefined`: the
 * tool gets `{}`, so every required field is missing, reported at the step's `tool:`): one expression making the
 * whole input cannot be checked before the run.
 */
export function toolWithFindings(given: Readonly<Record<string, unknown>> | undefined, tool: ToolSchema | undefined): KindFinding[] {
  if (!tool || !listsFields(tool.input_schema)) return [];
  if (given === undefined) {
    const required = requiredFields(tool.input_schema);
    return required.length === 0 ? [] : [{ path: ['tool'], message: `the input of tool ${tool.name} requires ${quoted(required)}, which the step gives no with: for` }];
  }
  const keys = Object.keys(given);
  const unknown = takesOtherKeys(tool.input_schema) ? [] : unknownKeys(keys, tool.input_schema);
  const suggested = new Set(unknown.map((u) => u.suggestion));
  const missing = requiredFields(tool.input_schema).filter((field) => !keys.includes(field) && !suggested.has(field));
  return [
    ...unknown.map((u) => unknownKeyFinding(u, tool, ['with'])),
    ...(missing.length === 0 ? [] : [{ path: ['with'], message: `the input of tool ${tool.name} requires ${quoted(missing)}, which with: does not give` }]),
  ];
}

/** `"a"`, `"a" and "b"`, `"a", "b" and "c"`. */
function quoted(names: readonly string[]): string {
  const all = names.map((name) => `"${name}"`);
  return all.length === 1 ? all[0]! : `${all.slice(0, -1).join(', ')} and ${all[all.length - 1]!}`;
}
