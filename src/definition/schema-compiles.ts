/**
 * The JSON Schemas a definition holds (its `input`, each `analyze.schema`) are
 * compiled when it loads, as the engine compiles them at run time (Ajv,
 * 2020-12, not strict): a schema Ajv refuses is a definition issue at the
 * keyword at fault, not an Ajv stack trace when a run starts or a retried,
 * paid model call. A schema the quick check knows whole (src/util/plain-schema.ts)
 * needs no Ajv.
 */
import type { ErrorObject } from 'ajv/dist/2020.js';
import { syncAjv } from '../util/lazy-ajv.js';
import { plainSchemaWellFormed } from '../util/plain-schema.js';
import { StepwiseError } from '../errors.js';
import { messageOf } from '../util/error-message.js';
import type { PathSegment } from './locate.js';
import { schemaPatternFindings } from './schema-patterns.js';

const ajv = syncAjv();

/** What is wrong with a schema, at the path of the keyword at fault under the schema's own path. */
export interface SchemaFinding {
  readonly path: PathSegment[];
  readonly message: string;
}

/**
 * Every issue of a JSON Schema the definition holds at `at`: each pattern RE2 cannot match, named at its own field
 * (./schema-patterns.ts), then what keeps the schema from compiling ({@link schemaFindings}, which leaves those
 * patterns to the first). `compiled` is the schema as the engine compiles it (an analyze step's with its `type: object`).
 */
export function schemaIssues(schema: unknown, at: readonly PathSegment[], compiled: unknown = schema): SchemaFinding[] {
  return [...schemaPatternFindings(schema, at), ...schemaFindings(compiled, at)];
}

/**
 * Why `schema` cannot be compiled, one finding per place (none when Ajv compiles it); `at` is the path of the
 * schema in the definition. `schema` is what is compiled: an analyze step passes it with its `type: object`.
 *
 * @example
 * schemaFindings({ type: 'strin' }, ['input']); // [{ path: ['input', 'type'], message: 'not a valid JSON Schema: must be one of array, … (got "strin")' }]
 */
export function schemaFindings(schema: unknown, at: readonly PathSegment[]): SchemaFinding[] {
  if (plainSchemaWellFormed(schema)) return [];
  const instance = ajv();
  let valid: boolean;
  try {
    valid = instance.validateSchema(schema as object) as boolean;
  } catch (error) {
    // A `$schema` naming a meta-schema Ajv does not know, say.
    return [{ path: [...at], message: `not a valid JSON Schema: ${messageOf(error).split('\n')[0]}` }];
  }
  if (!valid) {
    return byPlace(instance.errors ?? []).map(([pointer, errors]) => {
      const { path, value } = placeOf(schema, pointer);
      return { path: [...at, ...path], message: `not a valid JSON Schema: ${wording(errors, value)}` };
    });
  }
  try {
    instance.compile(schema as object);
    // A compiled schema is kept by the instance under its JSON; the engine compiles its own.
    instance.removeSchema(schema as object);
    return [];
  } catch (error) {
    // A pattern the linear-time matcher refuses is named at its own field by ./schema-patterns.ts.
    if (error instanceof StepwiseError && error.code === 'expression_failed') return [];
    return [{ path: [...at], message: `not a valid JSON Schema: ${messageOf(error).split('\n')[0]}` }];
  }
}

/** The meta-schema's errors grouped by the place in the schema they are about, in the order first met. */
function byPlace(errors: readonly ErrorObject[]): Array<[string, ErrorObject[]]> {
  const places = new Map<string, ErrorObject[]>();
  for (const error of errors) places.set(error.instancePath, [...(places.get(error.instancePath) ?? []), error]);
  return [...places];
}

/** One place's errors in a line: a list of allowed values says it all; else the first that is not an anyOf/oneOf summary. */
function wording(errors: readonly ErrorObject[], value: unknown): string {
  const allowed = errors.find((e) => e.keyword === 'enum');
  if (allowed) {
    const values = (allowed.params as { allowedValues?: unknown[] }).allowedValues ?? [];
    return `must be one of ${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')} (got ${JSON.stringify(value) ?? 'nothing'})`;
  }
  const first = errors.find((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf') ?? errors[0];
  return first?.message ?? 'refused by the JSON Schema meta-schema';
}

/** The path a JSON pointer into `schema` names, indexes of arrays as numbers (so a YAML locator finds them), and the value there. */
function placeOf(schema: unknown, pointer: string): { path: PathSegment[]; value: unknown } {
  const out: PathSegment[] = [];
  let node = schema;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment: PathSegment = Array.isArray(node) && /^\d+$/.test(key) ? Number(key) : key;
    out.push(segment);
    node = typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>)[segment] : undefined;
  }
  return { path: out, value: node };
}
