/**
 * The `validate` warning about prompts whose size the run data decides: a
 * `context:` value that is a whole earlier output (`$steps.<id>.output`) with
 * nothing bounding its size and no `maxTokens` to cut it. A tool's output is
 * sized by its output schema, so those are told once the tools are loaded.
 */
import { expressionsIn } from '../expr/index.js';
import { kindOf, type ToolSchema } from '../kinds/index.js';
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

type Step = Workflow['steps'][string];
/** Why the output of a step is unbounded; null when something bounds it; undefined when this look cannot tell. */
type Reason = (step: Step) => string | null | undefined;

/** The tool whose result a step's output is (`tool:`, or the tool a `claude` step fills), if any. */
function toolOfStep(step: Step): string | undefined {
  const raw = step as { tool?: unknown; claude?: { tool?: unknown } };
  if (typeof raw.tool === 'string') return raw.tool;
  return typeof raw.claude?.tool === 'string' ? raw.claude.tool : undefined;
}

/** What the definition says of a step's output: an `analyze` schema, nothing; a tool's output is left to {@link toolReason}. */
const ownReason: Reason = (step) => {
  if ('analyze' in step) return schemaBounded({ type: 'object', ...step.analyze.schema }) ? null : 'its schema has a string without maxLength or an array without maxItems';
  if (toolOfStep(step) !== undefined) return undefined;
  return 'nothing declares its shape';
};

/** What the output schema of a step's tool says of its output (a tool that is not provided is an error of its own). */
const toolReason = (toolOf: (name: string) => ToolSchema | undefined): Reason => (step) => {
  const name = toolOfStep(step);
  const tool = name === undefined ? undefined : toolOf(name);
  if (!tool) return undefined;
  if (tool.output_schema === undefined) return `tool ${name} declares no output schema`;
  return schemaBounded(tool.output_schema) ? null : `the output schema of tool ${name} has a string without maxLength or an array without maxItems`;
};

/**
 * Warnings for `context:` values that put a whole unbounded output in the prompt without `maxTokens`, for the outputs
 * the definition itself sizes (`analyze` schemas, steps that declare none); those of tools are sized by
 * {@link unboundedToolOutputFindings} once the tools are loaded.
 */
export function unboundedContextFindings(workflow: Workflow): Finding[] {
  return contextFindings(workflow, ownReason);
}

/** The same warnings for the outputs of tool and `claude` steps, sized from their tool's output schema. */
export function unboundedToolOutputFindings(workflow: Workflow, toolOf: (name: string) => ToolSchema | undefined): Finding[] {
  return contextFindings(workflow, toolReason(toolOf));
}

function contextFindings(workflow: Workflow, reasonOf: Reason): Finding[] {
  const findings: Finding[] = [];
  for (const [id, step] of Object.entries(workflow.steps)) {
    for (const [value, at] of kindOf(step)?.expressions?.(step) ?? []) {
      if (at[at.length - 1] !== 'context' || !isRecord(value)) continue;
      for (const [key, entry] of Object.entries(value)) {
        if (isBoundedContext(entry)) continue;
        for (const { text } of expressionsIn(entry)) {
          for (const source of wholeOutputReferences(text)) {
            const earlier = workflow.steps[source];
            const reason = earlier ? reasonOf(earlier) : null;
            if (reason === null || reason === undefined) continue;
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
