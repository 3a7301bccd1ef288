/** The definition schema as JSON Schema, for editors (`# yaml-language-server: $schema=...`) and other tools. */
import { z } from 'zod';
import { Workflow } from './schema.js';

/** `$id` of the published schema. */
export const workflowSchemaId = 'urn:stepwise:workflow.schema.json';

/**
 * JSON Schema (draft 2020-12) of a workflow definition, generated from the
 * zod schema in input mode, so optional fields with defaults are optional.
 *
 * @example
 * ```ts
 * writeFileSync('schema/workflow.schema.json', JSON.stringify(workflowJsonSchema(), null, 2) + '\n');
 * ```
 */
export function workflowJsonSchema(): Record<string, unknown> {
  const { $schema, ...schema } = z.toJSONSchema(Workflow, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { $schema, $id: workflowSchemaId, title: 'Stepwise workflow', ...schema };
}

/** {@link workflowJsonSchema} as the text of `schema/workflow.schema.json`: pretty, with a trailing newline. */
export function workflowJsonSchemaText(): string {
  return `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`;
}
