/**
 * What a `claude` step's `with:` (partial tool input) means for checks and
 * bounds: its keys must be top-level fields of the tool input; a `with:` that
 * fills every field leaves the model nothing to do (a `tool` step does that
 * without a model call); the worst case counts the schema the model is sent.
 */
import { omitFields, requiredFields, schemaProperties } from '../steps/partial-input.js';
import type { KindFinding, ToolSchema } from './types.js';
import { unknownKeyFinding, unknownKeys } from './with-keys.js';

interface ClaudeFields {
  readonly tool: string;
  readonly with?: Record<string, unknown> | undefined;
}

/** The tool as the model sees it: without the fields `with:` fills. */
export function modelTool(spec: ClaudeFields, tool: ToolSchema): ToolSchema {
  return { ...tool, input_schema: omitFields(tool.input_schema, Object.keys(spec.with ?? {})) };
}

/** `with:` keys that are not fields of the tool input are errors; a `with:` that fills them all is a warning. */
export function withChecks(spec: ClaudeFields, tool: ToolSchema | undefined): { errors: KindFinding[]; warnings: KindFinding[] } {
  const keys = Object.keys(spec.with ?? {});
  if (!tool || keys.length === 0) return { errors: [], warnings: [] };
  const properties = schemaProperties(tool.input_schema);
  const errors = unknownKeys(keys, tool.input_schema).map((unknown) =>
    unknownKeyFinding(unknown, tool, ['claude', 'with'], "; with: may only fill the tool's top-level fields"),
  );
  const all = properties.length > 0 && properties.every((p) => keys.includes(p)) && requiredFields(tool.input_schema).every((r) => keys.includes(r));
  const warnings = all
    ? [{ path: ['claude', 'with'], message: `with: fills every field of ${spec.tool}, so Claude has nothing to fill: use a tool step (tool: ${spec.tool}, with: ...) and save the model call` }]
    : [];
  return { errors, warnings };
}
