/**
 * Request validation for the Messages API: the zod schema of a
 * `POST /v1/messages` (and `count_tokens`) body, and the checks zod can't
 * express. Failures become the API's `invalid_request_error` message.
 */
import { z } from 'zod';

const cacheControl = z.looseObject({ type: z.string() }).optional();

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string(), cache_control: cacheControl });
const toolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});
const toolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
  is_error: z.boolean().optional(),
});
const imageBlock = z.looseObject({ type: z.literal('image'), source: z.looseObject({ type: z.string() }) });
const documentBlock = z.looseObject({ type: z.literal('document'), source: z.looseObject({ type: z.string() }) });
const thinkingBlock = z.looseObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() });
const redactedThinkingBlock = z.looseObject({ type: z.literal('redacted_thinking'), data: z.string() });

const knownBlocks: Record<string, z.ZodType> = {
  text: textBlock,
  tool_use: toolUseBlock,
  tool_result: toolResultBlock,
  image: imageBlock,
  document: documentBlock,
  thinking: thinkingBlock,
  redacted_thinking: redactedThinkingBlock,
};

/** A content block: known types are checked field by field, other types pass through. */
const contentBlock = z.looseObject({ type: z.string() }).superRefine((block, ctx) => {
  const schema = knownBlocks[block.type];
  if (!schema) return;
  const result = schema.safeParse(block);
  if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
});

export type ContentBlock = z.infer<typeof contentBlock>;

const message = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(contentBlock)]),
});

const customTool = z.looseObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/, 'tool names must match ^[a-zA-Z0-9_-]{1,128}$'),
  description: z.string().optional(),
  input_schema: z.looseObject({ type: z.literal('object') }),
  type: z.literal('custom').optional(),
});
/** A tool: custom tools (no `type`, or `custom`) are checked in full, server tools pass through. */
const tool = z.looseObject({ name: z.string(), type: z.string().optional() }).superRefine((t, ctx) => {
  if (t.type !== undefined && t.type !== 'custom') return;
  const result = customTool.safeParse(t);
  if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
});

const toolChoice = z.looseObject({
  type: z.enum(['auto', 'any', 'tool', 'none']),
  name: z.string().optional(),
  disable_parallel_tool_use: z.boolean().optional(),
});

const common = {
  model: z.string().min(1),
  messages: z.array(message).min(1, 'at least one message is required'),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
};

/** The body of `POST /v1/messages`; unknown top-level fields are allowed. */
export const messagesRequest = z.looseObject({
  ...common,
  max_tokens: z.number().int().positive(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().nonnegative().optional(),
  stop_sequences: z.array(z.string()).optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
  stream: z.boolean().optional(),
});

/** The body of `POST /v1/messages/count_tokens`. */
export const countTokensRequest = z.looseObject(common);

export type MessagesRequest = z.infer<typeof messagesRequest>;
export type CountTokensRequest = z.infer<typeof countTokensRequest>;
export type RequestMessage = MessagesRequest['messages'][number];

/** A custom tool the model can call (server tools carry no input schema). */
export interface ToolDef {
  readonly name: string;
  readonly description?: string | undefined;
  readonly input_schema: Record<string, unknown>;
}

/** The custom tools of a request, in order. */
export function customTools(request: CountTokensRequest): ToolDef[] {
  return (request.tools ?? []).flatMap((t) => {
    const parsed = customTool.safeParse(t);
    return parsed.success && (t.type === undefined || t.type === 'custom') ? [parsed.data] : [];
  });
}

const SHOWN = 3;

function formatIssues(error: z.ZodError): string {
  const lines = error.issues.slice(0, SHOWN).map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
  const more = error.issues.length > SHOWN ? [`… and ${error.issues.length - SHOWN} more`] : [];
  return [...lines, ...more].join('; ');
}

function semanticError(request: CountTokensRequest & { stream?: boolean | undefined }): string | undefined {
  const tools = request.tools ?? [];
  const names = tools.map((t) => t.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) return `tools: Tool names must be unique (duplicate "${dup}")`;
  const choice = request.tool_choice;
  if (choice?.type === 'tool') {
    if (!choice.name) return 'tool_choice.name: Field required when tool_choice.type is "tool"';
    if (!names.includes(choice.name)) return `tool_choice.name: Tool '${choice.name}' not found in tools`;
  }
  if ((choice?.type === 'any' || choice?.type === 'tool') && tools.length === 0) {
    return `tool_choice: tool_choice.type "${choice.type}" requires tools`;
  }
  if (request.stream === true) return 'stream: streaming is not supported by the Stepwise emulator; call without stream';
  return undefined;
}

/** The parsed request, or the `invalid_request_error` message to send back. */
export type Parsed<T> = { ok: true; request: T } | { ok: false; message: string };

/**
 * Validates a `/v1/messages` body.
 * @example
 * const parsed = parseMessagesRequest(JSON.parse(body));
 * if (!parsed.ok) reply400(parsed.message);
 */
export function parseMessagesRequest(body: unknown): Parsed<MessagesRequest> {
  const result = messagesRequest.safeParse(body);
  if (!result.success) return { ok: false, message: formatIssues(result.error) };
  const problem = semanticError(result.data);
  return problem ? { ok: false, message: problem } : { ok: true, request: result.data };
}

/** Validates a `/v1/messages/count_tokens` body. */
export function parseCountTokensRequest(body: unknown): Parsed<CountTokensRequest> {
  const result = countTokensRequest.safeParse(body);
  if (!result.success) return { ok: false, message: formatIssues(result.error) };
  const problem = semanticError(result.data);
  return problem ? { ok: false, message: problem } : { ok: true, request: result.data };
}
