/**
 * The `validate` warning about prompts whose size the run data decides: a
 * `context:` value that is a whole earlier output (`$steps.<id>.output`) with
 * nothing bounding its size and no `maxTokens` to cut it.
 */
import { expressionsIn } from '../expr/index.js';
import { kindOf } from '../kinds/index.js';
import { isBoundedContext } from './fields.js';
import type { PathSegment } from './locate.js';
import type { Finding } from './reach.js';
import type { Workflow } from './schema.js';
import { wholeOutputReferences } from './step-refs.js';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Whether every value a JSON Schema accepts has a bounded size: strings with
 * `maxLength` (or an `enum`/`const`), arrays with `maxItems` of bounded items,
 * objects of bounded properties and no others (`additionalProperties: false`).
 */
export function schemaBounded(schema: unknown, depth = 0): boolean {
  if (schema === false) return true;
  if (!isRecord(schema) || depth > 32) return false;
  if ('const' in schema || Array.isArray(schema['enum'])) return true;
  for (const key of ['anyOf', 'oneOf']) {
    const branches = schema[key];
    if (Array.isArray(branches)) return branches.every((branch) => schemaBounded({ ...schema, [key]: undefined, ...(isRecord(branch) ? branch : {}) }, depth + 1));
  }
  const declared = schema['type'];
  const types = Array.isArray(declared) ? declared : [declared];
  return types.every((type) => typeBounded(schema, type, depth));
}

function typeBounded(schema: Record<string, unknown>, type: unknown, depth: number): boolean {
  switch (type) {
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return true;
    case 'string':
      return typeof schema['maxLength'] === 'number';
    case 'array':
      return typeof schema['maxItems'] === 'number' && schemaBounded(schema['items'], depth + 1);
    case 'object': {
      const properties = isRecord(schema['properties']) ? Object.values(schema['properties']) : [];
      return schema['additionalProperties'] === false && properties.every((p) => schemaBounded(p, depth + 1));
    }
    default:
      return false;
  }
}

/** Why the output of `step` is unbounded, or null when its schema bounds it. */
function unboundedReason(step: Workflow['steps'][string]): string | null {
  if ('analyze' in step) return schemaBounded({ type: 'object', ...step.analyze.schema }) ? null : 'its schema has a string without maxLength or an array without maxItems';
  if ('claude' in step || 'tool' in step) return 'a tool declares no output schema';
  return 'nothing declares its shape';
}

/** Warnings for `context:` values that put a whole unbounded output in the prompt without `maxTokens`. */
export function unboundedContextFindings(workflow: Workflow): Finding[] {
  const findings: Finding[] = [];
  for (const [id, step] of Object.entries(workflow.steps)) {
    for (const [value, at] of kindOf(step)?.expressions?.(step) ?? []) {
      if (at[at.length - 1] !== 'context' || !isRecord(value)) continue;
      for (const [key, entry] of Object.entries(value)) {
        if (isBoundedContext(entry)) continue;
        for (const { text } of expressionsIn(entry)) {
          for (const source of wholeOutputReferences(text)) {
            const earlier = workflow.steps[source];
            const reason = earlier ? unboundedReason(earlier) : null;
            if (reason === null) continue;
            const path: PathSegment[] = ['steps', id, ...at, key];
            const expression = `{% $steps.${source}.output %}`;
            findings.push({
              path,
              message: `"${expression}" puts the whole output of step "${source}" in the prompt, and nothing bounds its size (${reason}); pick the fields the step needs ($steps.${source}.output.<field>) or bound it: { value: "${expression}", maxTokens: 500 }`,
            });
          }
        }
      }
    }
  }
  return findings;
}
