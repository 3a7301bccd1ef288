/**
 * The regular expressions of a definition's JSON Schemas (the run input's, an
 * analyze step's): every `pattern` and `patternProperties` key, found where
 * the schema applies them (nested subschemas; not inside `enum`, `const`,
 * `default` or `examples`, which are data). They are matched by RE2 in linear
 * time (src/expr/regex.ts), so one RE2 cannot match (a backreference,
 * lookahead) is refused when the definition loads, at its field.
 */
import { unmatchableReason } from '../expr/regex.js';
import type { PathSegment } from './locate.js';

interface Finding {
  readonly path: PathSegment[];
  readonly message: string;
}

/** Keywords whose value is one subschema (or, for `items` before 2020-12, a list of them). */
const oneSchema = ['additionalProperties', 'items', 'additionalItems', 'contains', 'unevaluatedItems', 'unevaluatedProperties', 'propertyNames', 'not', 'if', 'then', 'else'];
/** Keywords whose value is a list of subschemas. */
const listOfSchemas = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
/** Keywords whose value maps names to subschemas. */
const mapOfSchemas = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependencies'];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Deeper schemas than this are not looked into (a definition's schemas are a few levels deep). */
const MAX_DEPTH = 64;

/**
 * A finding for each pattern of `schema` (at `path` in the definition) that RE2 cannot match.
 *
 * @example
 * schemaPatternFindings({ properties: { id: { pattern: '^(a)\\1$' } } }, ['input']);
 * // [{ path: ['input', 'properties', 'id', 'pattern'], message: 'the pattern "^(a)\\1$" cannot be used: it uses a backreference, …' }]
 */
export function schemaPatternFindings(schema: unknown, path: readonly PathSegment[]): Finding[] {
  const findings: Finding[] = [];
  const check = (pattern: string, at: PathSegment[]) => {
    const why = unmatchableReason(pattern, 'u');
    if (why !== null) {
      findings.push({
        path: at,
        message: `the pattern ${JSON.stringify(pattern)} cannot be used: ${why}. JSON Schema patterns are matched in linear time, so no reply or input can hang a run; rewrite it without that feature`,
      });
    }
  };
  const walk = (node: unknown, at: PathSegment[], depth: number): void => {
    if (depth > MAX_DEPTH) return;
    if (Array.isArray(node)) {
      node.forEach((item, index) => walk(item, [...at, index], depth + 1));
      return;
    }
    if (!isObject(node)) return;
    if (typeof node['pattern'] === 'string') check(node['pattern'], [...at, 'pattern']);
    if (isObject(node['patternProperties'])) for (const key of Object.keys(node['patternProperties'])) check(key, [...at, 'patternProperties', key]);
    for (const keyword of oneSchema) if (keyword in node) walk(node[keyword], [...at, keyword], depth + 1);
    for (const keyword of listOfSchemas) if (Array.isArray(node[keyword])) walk(node[keyword], [...at, keyword], depth + 1);
    for (const keyword of mapOfSchemas) {
      const map = node[keyword];
      if (isObject(map)) for (const [name, sub] of Object.entries(map)) walk(sub, [...at, keyword, name], depth + 1);
    }
  };
  walk(schema, [...path], 0);
  return findings;
}
