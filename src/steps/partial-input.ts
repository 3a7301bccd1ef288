/**
 * Partial tool inputs of a `claude` step: the values its `with:` gives for
 * top-level fields of the tool input are filled in by the application. The
 * schema the model sees omits those fields (from `properties` and
 * `required`); the merged input, the application's values winning, is what
 * the tool's full schema validates.
 */
import type { RejectedFields } from '../compile/context.js';
import type { AnyTool } from '../tools/define.js';
import { safeParse } from '../util/plain-zod.js';
import { describeIssues } from './invoke-tool.js';

type JsonSchema = Record<string, unknown>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The top-level properties a JSON Schema of an object declares. */
export function schemaProperties(schema: JsonSchema): string[] {
  return isObject(schema['properties']) ? Object.keys(schema['properties']) : [];
}

/** The fields an object schema requires. */
export function requiredFields(schema: JsonSchema): string[] {
  return Array.isArray(schema['required']) ? schema['required'].filter((k): k is string => typeof k === 'string') : [];
}

/**
 * The schema the model is asked to fill: `schema` without the top-level
 * fields `known` (nested fields are not split: a `with:` key names a whole
 * top-level field).
 *
 * @example
 * omitFields({ type: 'object', properties: { a: {}, b: {} }, required: ['a', 'b'] }, ['a']);
 * // { type: 'object', properties: { b: {} }, required: ['b'] }
 */
export function omitFields(schema: JsonSchema, known: readonly string[]): JsonSchema {
  if (known.length === 0 || !isObject(schema['properties'])) return schema;
  const drop = new Set(known);
  const properties = Object.fromEntries(Object.entries(schema['properties']).filter(([key]) => !drop.has(key)));
  const required = requiredFields(schema).filter((key) => !drop.has(key));
  const { required: _required, ...rest } = schema;
  return { ...rest, properties, ...(required.length > 0 ? { required } : {}) };
}

/** The model's input with the application's values laid over it: a known field the model sent anyway is ignored. */
export function mergeKnown(modelInput: unknown, known: Readonly<Record<string, unknown>>): unknown {
  return isObject(modelInput) ? { ...modelInput, ...known } : { ...known };
}

/** Whether every problem of `input` against the tool's schema is in a field the application filled (so a retry cannot help). */
export function onlyKnownFieldsInvalid(tool: AnyTool, input: unknown, known: Readonly<Record<string, unknown>>): boolean {
  const parsed = safeParse(tool.input, input);
  if (parsed.success) return false;
  return parsed.error.issues.every((issue) => typeof issue.path[0] === 'string' && issue.path[0] in known);
}

/**
 * What is wrong with the `with:` values themselves, checked before any model call: the issues of the tool's schema
 * that name one of their fields (`path: message`), or null when they fit. The fields the model is to fill are missing
 * here, and their issues are not the application's.
 */
export function givenFieldIssues(tool: AnyTool, given: Readonly<Record<string, unknown>>): string | null {
  const parsed = safeParse(tool.input, given);
  if (parsed.success) return null;
  const ours = parsed.error.issues.filter((issue) => typeof issue.path[0] === 'string' && issue.path[0] in given);
  return ours.length === 0 ? null : describeIssues(ours);
}

/** A rejected field's value as a retry may quote it: a short scalar, else null (missing, long, or structured). */
const REJECTED_VALUE_MAX_CHARS = 80;
function quotable(value: unknown): RejectedFields[string] {
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return typeof value === 'string' && value.length <= REJECTED_VALUE_MAX_CHARS ? value : null;
}

/**
 * The top-level fields of an invalid `input`, split: those that passed the tool's schema (`accepted`, for a retry
 * to keep while the model fills only the rest; `exclude`, the `with:` keys, is left out, being the application's),
 * and those that failed (`rejected`, with the value the model gave when it is a short scalar, else null), which
 * a retry's prompt may narrow its context to (./retry-context.ts). Undefined when the input cannot be split: it is
 * not an object, an issue has no top-level field (a check across fields, an unknown key), or an issue names a
 * field the schema does not declare. `accepted` is undefined when no field passed.
 *
 * @example
 * fieldVerdicts(tool, schema, { vendorId: 'V-1', total: 'x' }, []);
 * // { accepted: { vendorId: 'V-1' }, rejected: { total: 'x' } } when only total is wrong
 */
export function fieldVerdicts(
  tool: AnyTool, schema: JsonSchema, input: unknown, exclude: readonly string[],
): { accepted: Record<string, unknown> | undefined; rejected: RejectedFields } | undefined {
  if (!isObject(input)) return undefined;
  const parsed = safeParse(tool.input, input);
  if (parsed.success) return undefined;
  const properties = schemaProperties(schema);
  const invalid = new Set<string>();
  for (const issue of parsed.error.issues) {
    const field = issue.path[0];
    if (typeof field !== 'string' || !properties.includes(field)) return undefined;
    invalid.add(field);
  }
  const kept = Object.fromEntries(Object.entries(input).filter(([key]) => properties.includes(key) && !invalid.has(key) && !exclude.includes(key)));
  const rejected = Object.fromEntries([...invalid].filter((key) => !exclude.includes(key)).map((key) => [key, quotable(input[key])]));
  return { accepted: Object.keys(kept).length > 0 ? kept : undefined, rejected };
}

/** The entries of `record` under `keys`. */
export function pick(record: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => keys.includes(key)));
}
