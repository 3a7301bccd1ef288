/**
 * A tool called with an object must take one. A `claude` step's tool is sent
 * to the Messages API, which requires `input_schema.type` to be `object` (a
 * tool with `input: z.string()`, or `z.any()`, is answered with a 400 at run
 * time); a `tool` step whose `with:` is a mapping calls its tool
 * with an object, which a tool taking a string can never accept.
 */
import type { KindFinding, ToolSchema } from './types.js';

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/** The input types a schema's `type` names; null when it names none (any value, or a union without one). */
function typesOf(schema: Record<string, unknown>): string[] | null {
  const type = schema['type'];
  if (typeof type === 'string') return [type];
  if (Array.isArray(type) && type.every((t) => typeof t === 'string')) return type as string[];
  return null;
}

const takes = (name: string, types: readonly string[]) => `tool "${name}" takes ${types.map(article).join(' or ')}, not an object`;

/** A `claude` step's tool: its input schema must be `type: object`, as the Messages API requires. */
export function modelToolInputFindings(tool: ToolSchema | undefined, path: readonly (string | number)[]): KindFinding[] {
  if (!tool || tool.input_schema['type'] === 'object') return [];
  const types = typesOf(tool.input_schema);
  const what = types === null || types.includes('object') ? `tool "${tool.name}" has no object input schema` : takes(tool.name, types);
  return [{ path: [...path], message: `${what}: a claude step's tool needs an object input schema (input: z.object({...})), as the Messages API requires` }];
}

/** A `tool` step calling its tool with an object (its `with:` a mapping): the schema must allow one. */
export function calledToolInputFindings(tool: ToolSchema | undefined, path: readonly (string | number)[]): KindFinding[] {
  const types = tool ? typesOf(tool.input_schema) : null;
  if (!tool || types === null || types.includes('object')) return [];
  return [{ path: [...path], message: `${takes(tool.name, types)}: a tool step calls it with the object its with: mapping makes` }];
}
