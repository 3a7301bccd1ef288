/**
 * The bound of what a model step's prompt holds from the run: each `context:`
 * value (and a templated prompt or system text) sized from the schema of what
 * it references: `$input.<field>` from the workflow's `input` schema,
 * `$steps.<id>.output.<field>` from the output schema of that step's tool (or
 * the schema of an `analyze` step). Any other expression is unbounded.
 */
import type { Workflow } from '../definition/schema.js';
import { countTokens } from '../model/tokens.js';
import { constantTokens, schemaAt, schemaBound, sumBounds, type Bound } from '../policy/value-bound.js';
import type { ToolSchema } from './types.js';
import { stepOf } from '../definition/sequences.js';

export interface BoundSources {
  readonly workflow: Workflow;
  readonly toolOf: (name: string) => ToolSchema | undefined;
}

const template = /\{%([\s\S]*?)%\}/g;
const field = String.raw`(?:\.[A-Za-z_$][\w$]*)*`;
const inputRef = new RegExp(String.raw`^\$input(${field})$`);
const stepRef = new RegExp(String.raw`^\$steps\.([A-Za-z_][\w-]*)\.output(${field})$`);

/** The JSON Schema of a step's `output`, where its kind declares one. */
function outputSchemaOf(id: string, sources: BoundSources): unknown {
  const step = stepOf(sources.workflow, id) as Record<string, unknown> | undefined;
  if (!step) return undefined;
  if (typeof step['tool'] === 'string') return sources.toolOf(step['tool'])?.output_schema;
  const claude = step['claude'] as { tool?: unknown } | undefined;
  if (claude && typeof claude.tool === 'string') return sources.toolOf(claude.tool)?.output_schema;
  const analyze = step['analyze'] as { schema?: Record<string, unknown> } | undefined;
  if (analyze?.schema) return { type: 'object', ...analyze.schema };
  return undefined;
}

/**
 * The JSON Schema of the value a plain reference (`$input.<field…>` or
 * `$steps.<id>.output.<field…>`) reads, or why there is none.
 */
export function referenceSchema(expression: string, sources: BoundSources): { readonly schema: unknown } | { readonly reason: string } {
  const text = expression.trim();
  const input = inputRef.exec(text);
  const step = input ? null : stepRef.exec(text);
  if (!input && !step) return { reason: `${text} is not a plain $input or $steps.<id>.output reference` };
  const fields = ((input ? input[1] : step?.[2]) ?? '').split('.').filter(Boolean);
  const root = input ? (sources.workflow.input ?? undefined) : outputSchemaOf(step![1]!, sources);
  if (root === undefined) return { reason: input ? 'the workflow has no input schema' : `step "${step![1]}" declares no output schema` };
  const schema = schemaAt(root, fields);
  if (schema === undefined) return { reason: 'not in its schema' };
  return { schema };
}

/** The expression of a value that is exactly one `{% … %}` template, or undefined. */
export function soleExpression(value: unknown): string | undefined {
  return typeof value === 'string' ? /^\{%([\s\S]*?)%\}$/.exec(value.trim())?.[1]?.trim() : undefined;
}

/** The bound of one `{% … %}` expression's value. */
function expressionBound(expression: string, path: string, sources: BoundSources): Bound {
  const text = expression.trim();
  if (!inputRef.test(text) && !stepRef.test(text)) return { unbounded: `${path} (${text} is not a plain $input or $steps.<id>.output reference)` };
  const found = referenceSchema(text, sources);
  if ('reason' in found) return { unbounded: `${text} (${found.reason})` };
  return schemaBound(found.schema, text);
}

/**
 * The bound of a `context:` value, or of a prompt or system text: literal text
 * counts as itself, each `{% %}` expression by the schema of what it references.
 */
export function valueBound(value: unknown, path: string, sources: BoundSources): Bound {
  if (typeof value === 'string') {
    if (!value.includes('{%')) return { tokens: constantTokens(value) };
    const parts: Bound[] = [];
    let last = 0;
    for (const match of value.matchAll(template)) {
      const literal = value.slice(last, match.index);
      if (literal) parts.push({ tokens: countTokens(JSON.stringify(literal)) + 1 });
      parts.push(expressionBound(match[1] ?? '', path, sources));
      last = match.index + match[0].length;
    }
    const rest = value.slice(last);
    if (rest) parts.push({ tokens: countTokens(JSON.stringify(rest)) + 1 });
    return sumBounds(parts);
  }
  if (Array.isArray(value)) return sumBounds([{ tokens: 4 }, ...value.map((item, i) => valueBound(item, `${path}[${i}]`, sources)).map(padded)]);
  if (typeof value === 'object' && value !== null) {
    return sumBounds([
      { tokens: 4 },
      ...Object.entries(value).map(([key, item]) => padded(valueBound(item, `${path}.${key}`, sources), constantTokens(key))),
    ]);
  }
  return { tokens: constantTokens(value) };
}

/** An entry of indented JSON: its value, key, separator and line break. */
function padded(bound: Bound, keyTokens = 0): Bound {
  return 'unbounded' in bound ? bound : { tokens: bound.tokens + keyTokens + 3 };
}
