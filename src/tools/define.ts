/**
 * `defineTool()`: a typed tool the application (or Claude, through a `claude`
 * step) calls. Its zod `input` schema becomes the tool's JSON Schema for the model
 * and validates every input before `run` is called.
 */
import { z } from 'zod';

/** What a tool is told about the call it serves. */
export interface ToolContext {
  readonly runId: string;
  readonly stepId: string;
  readonly visit: number;
  readonly attempt: number;
  /** `runId:stepId:visit:attempt` — the same on every re-run of the same attempt, so side effects can happen once. */
  readonly idempotencyKey: string;
  readonly signal: AbortSignal;
}

export interface Tool<I extends z.ZodType = z.ZodType, O = unknown> {
  readonly kind: 'stepwise.tool';
  readonly name: string;
  readonly description: string;
  readonly input: I;
  /** What `run` returns, checked after each call: sizes `$steps.<id>.output` in `validate`'s worst case. */
  readonly output?: z.ZodType;
  readonly run: (input: z.output<I>, context: ToolContext) => Promise<O> | O;
}

export type AnyTool = Tool<z.ZodType, unknown>;

export interface ToolSpec<I extends z.ZodType, O> {
  name: string;
  description: string;
  input: I;
  /** Optional schema of the output: a call whose output does not match fails its step (`invalid_output`). */
  output?: z.ZodType<O>;
  run: (input: z.output<I>, context: ToolContext) => Promise<O> | O;
}

const toolName = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Defines a tool.
 *
 * @example
 * ```ts
 * export const checkVendor = defineTool({
 *   name: 'check_vendor',
 *   description: 'Look a vendor up in the ERP',
 *   input: z.object({ vendorId: z.string() }),
 *   run: async ({ vendorId }, { idempotencyKey }) => erp.vendor(vendorId, { idempotencyKey }),
 * });
 * ```
 */
export function defineTool<I extends z.ZodType, O, const N extends string = string>(
  spec: ToolSpec<I, O> & { name: N },
): Tool<I, O> & { readonly name: N } {
  if (!toolName.test(spec.name)) {
    throw new TypeError(`Tool name "${spec.name}" must match ${toolName} (the Messages API's rule for tool names).`);
  }
  return { kind: 'stepwise.tool', ...spec } as Tool<I, O> & { readonly name: N };
}

export function isTool(value: unknown): value is AnyTool {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'stepwise.tool';
}

/** The tool's input as JSON Schema, as sent to the model (`input_schema`). */
/** The JSON Schema of a tool's declared output (what its `run` returns after parsing). */
export function toolOutputSchema(output: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(output, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  return schema;
}

export function toolInputSchema(tool: AnyTool): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(tool.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return schema;
}
