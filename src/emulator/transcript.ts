/**
 * Reading a request the way the model sees it: the task text, the whole
 * transcript as text, the tool calls made so far, and the task's tool order.
 */
import type { CountTokensRequest, RequestMessage, ToolDef } from './validate.js';

/** A tool call found in an assistant turn. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly input: Record<string, unknown>;
}

function blockText(block: Record<string, unknown>): string {
  switch (block['type']) {
    case 'text':
      return typeof block['text'] === 'string' ? block['text'] : '';
    case 'tool_use':
      return JSON.stringify(block['input'] ?? {});
    case 'tool_result': {
      const content = block['content'];
      if (typeof content === 'string') return content;
      return Array.isArray(content) ? content.map((b) => (typeof b === 'object' && b !== null ? blockText(b as Record<string, unknown>) : '')).join('\n') : '';
    }
    default:
      return '';
  }
}

/** The text of one message (text blocks, tool inputs, tool results). */
export function messageText(message: RequestMessage): string {
  if (typeof message.content === 'string') return message.content;
  return message.content.map(blockText).filter((t) => t !== '').join('\n');
}

/** The system prompt as text. */
export function systemText(request: CountTokensRequest): string {
  const system = request.system;
  if (system === undefined) return '';
  return typeof system === 'string' ? system : system.map((b) => b.text).join('\n');
}

/** The task: system prompt plus the first user message. */
export function taskText(request: CountTokensRequest): string {
  const first = request.messages.find((m) => m.role === 'user');
  return [systemText(request), first ? messageText(first) : ''].join('\n');
}

/** Everything the model can read, in order: system, every turn, tool results. */
export function transcriptText(request: CountTokensRequest): string {
  return [systemText(request), ...request.messages.map(messageText)].join('\n');
}

/** The text of the last user message. */
export function lastUserText(request: CountTokensRequest): string {
  const last = [...request.messages].reverse().find((m) => m.role === 'user');
  return last ? messageText(last) : '';
}

/** The tool calls of all assistant turns, in order. */
export function toolCalls(request: CountTokensRequest): ToolCall[] {
  const calls: ToolCall[] = [];
  for (const message of request.messages) {
    if (message.role !== 'assistant' || typeof message.content === 'string') continue;
    for (const block of message.content) {
      if (block.type !== 'tool_use') continue;
      const input = block['input'];
      calls.push({
        id: String(block['id']),
        name: String(block['name']),
        input: typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {},
      });
    }
  }
  return calls;
}

/** Ids of the tool calls whose `tool_result` came back with `is_error: true`. */
export function failedCallIds(request: CountTokensRequest): Set<string> {
  const failed = new Set<string>();
  for (const message of request.messages) {
    if (message.role !== 'user' || typeof message.content === 'string') continue;
    for (const block of message.content) {
      if (block.type === 'tool_result' && block['is_error'] === true) failed.add(String(block['tool_use_id']));
    }
  }
  return failed;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The task's tools in order: those named in the task text, by first mention;
 * when none is named, the order of the `tools` array.
 */
export function taskOrder(tools: readonly ToolDef[], task: string): ToolDef[] {
  const mentioned = tools
    .map((tool) => ({ tool, at: task.search(new RegExp(`(?<![A-Za-z0-9_-])${escapeRegExp(tool.name)}(?![A-Za-z0-9_-])`)) }))
    .filter((m) => m.at >= 0)
    .sort((a, b) => a.at - b.at)
    .map((m) => m.tool);
  return mentioned.length ? mentioned : [...tools];
}
