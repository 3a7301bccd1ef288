/**
 * The simulated model: decides the content and stop reason of one turn from
 * what the real API would see (system, messages, tools, tool_choice), the
 * faults drawn for the request, and a seeded random. It knows no tool names.
 */
import { countJsonTokens } from '../model/tokens.js';
import type { Random } from '../util/random.js';
import type { FaultDraw, FaultName } from './faults.js';
import { fillFromSchema } from './fill.js';
import type { JsonSchema } from './json-schema.js';
import { invalidInput, nearIdentical } from './mutate.js';
import { pick, randomId } from './plausible.js';
import { collectPromptValues, type PromptValues } from './prompt-values.js';
import type { ReplyBlock, StopReason, ToolUseBlock } from './reply.js';
import { summarise } from './summary.js';
import { failedCallIds, lastUserText, taskOrder, taskText, toolCalls, transcriptText, type ToolCall } from './transcript.js';
import { truncateContent } from './truncate.js';
import { customTools, type MessagesRequest, type ToolDef } from './validate.js';

/** What the model says in one turn, and which faults shaped it. */
export interface ModelTurn {
  readonly content: ReplyBlock[];
  readonly stopReason: StopReason;
  readonly faults: FaultName[];
}

interface Turn {
  content: ReplyBlock[];
  faults: FaultName[];
}

function toolUse(tool: ToolDef, input: Record<string, unknown>, random: Random): ToolUseBlock {
  return { type: 'tool_use', id: `toolu_emu_${randomId(random)}`, name: tool.name, input };
}

function fillInput(tool: ToolDef, values: PromptValues, random: Random): Record<string, unknown> {
  const value = fillFromSchema(tool.input_schema as JsonSchema, values, random);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Calls `tool` with a filled input, broken when `invalid_input` fired. */
function callTool(tool: ToolDef, values: PromptValues, fired: FaultDraw, random: Random): Turn {
  const input = fillInput(tool, values, random);
  if (fired.has('invalid_input')) {
    const broken = invalidInput(tool.input_schema as JsonSchema, input, random);
    if (broken) return { content: [toolUse(tool, broken, random)], faults: ['invalid_input'] };
  }
  return { content: [toolUse(tool, input, random)], faults: [] };
}

function repeatCall(call: ToolCall, tools: readonly ToolDef[], random: Random): Turn | undefined {
  const tool = tools.find((t) => t.name === call.name);
  if (!tool) return undefined;
  const input = nearIdentical(call.input, random) as Record<string, unknown>;
  return { content: [toolUse(tool, input, random)], faults: ['repeat_call'] };
}

function forcedTurn(request: MessagesRequest, tools: ToolDef[], fired: FaultDraw, random: Random): Turn {
  const name = request.tool_choice?.name;
  const tool = tools.find((t) => t.name === name) ?? (tools[0] as ToolDef);
  const earlier = toolCalls(request).filter((c) => c.name === tool.name);
  if (fired.has('repeat_call') && earlier.length) {
    const repeated = repeatCall(pick(earlier, random), tools, random);
    if (repeated) return repeated;
  }
  return callTool(tool, collectPromptValues(transcriptText(request)), fired, random);
}

function agentTurn(request: MessagesRequest, tools: ToolDef[], fired: FaultDraw, random: Random): Turn {
  const mode = request.tool_choice?.type ?? 'auto';
  const order = taskOrder(tools, taskText(request));
  const calls = toolCalls(request);
  // A call answered with an error (is_error) is not done: the model tries it again.
  const failed = failedCallIds(request);
  const called = new Set(calls.filter((c) => !failed.has(c.id)).map((c) => c.name));
  const remaining = order.filter((t) => !called.has(t.name));
  const next = remaining[0];
  const values = collectPromptValues(transcriptText(request));

  if (fired.has('repeat_call') && calls.length) {
    const repeated = repeatCall(pick(calls, random), tools, random);
    if (repeated) return repeated;
  }
  if (fired.has('drift')) {
    const expected = next ?? order[order.length - 1];
    const unrelated = tools.filter((t) => !order.includes(t));
    const others = unrelated.length ? unrelated : tools.filter((t) => t !== expected);
    if (others.length) {
      const turn = callTool(pick(others, random), values, fired, random);
      return { content: turn.content, faults: ['drift', ...turn.faults] };
    }
  }
  if (mode === 'auto' && fired.has('out_of_order') && remaining.length >= 2) {
    const later = remaining[1 + Math.floor(random() * (remaining.length - 1))] as ToolDef;
    const turn = callTool(later, values, fired, random);
    return { content: turn.content, faults: ['out_of_order', ...turn.faults] };
  }
  if (mode === 'auto' && fired.has('stop_early') && next) {
    const text = `The task looks complete. ${summarise(lastUserText(request), random)}`;
    return { content: [{ type: 'text', text }], faults: ['stop_early'] };
  }
  const target = next ?? (mode === 'any' ? order[order.length - 1] : undefined);
  if (target) return callTool(target, values, fired, random);
  const done = order.map((t) => t.name).join(', ');
  return { content: [{ type: 'text', text: `All steps are done (${done}). ${summarise(lastUserText(request), random)}` }], faults: [] };
}

function textTurn(request: MessagesRequest, random: Random): Turn {
  return { content: [{ type: 'text', text: summarise(lastUserText(request), random) }], faults: [] };
}

function pause(content: ReplyBlock[]): ReplyBlock[] {
  const call = content.find((b): b is ToolUseBlock => b.type === 'tool_use');
  if (call) return [{ type: 'text', text: `Let me work on this step by step. Next I will use ${call.name}.` }];
  const text = content.map((b) => (b.type === 'text' ? b.text : '')).join(' ');
  const words = text.split(' ');
  return [{ type: 'text', text: words.slice(0, Math.max(1, Math.floor(words.length / 2))).join(' ') }];
}

/**
 * Plays one assistant turn for a validated request.
 * @example
 * const turn = simulateTurn(request, drawFaults(spec, random), random);
 * turn.stopReason; // 'tool_use' | 'end_turn' | ...
 */
export function simulateTurn(request: MessagesRequest, fired: FaultDraw, random: Random): ModelTurn {
  if (fired.has('refusal')) {
    return { content: [{ type: 'text', text: "I'm not able to help with that request." }], stopReason: 'refusal', faults: ['refusal'] };
  }
  const tools = customTools(request);
  const mode = request.tool_choice?.type ?? 'auto';
  const turn =
    tools.length === 0 || mode === 'none'
      ? textTurn(request, random)
      : mode === 'tool'
        ? forcedTurn(request, tools, fired, random)
        : agentTurn(request, tools, fired, random);

  if (fired.has('pause_turn')) return { content: pause(turn.content), stopReason: 'pause_turn', faults: [...turn.faults, 'pause_turn'] };
  const natural: StopReason = turn.content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
  const limit = fired.has('max_tokens') ? Math.min(request.max_tokens, Math.floor(countJsonTokens(turn.content) / 2)) : request.max_tokens;
  const cut = truncateContent(turn.content, limit);
  if (cut.truncated) {
    const faults = fired.has('max_tokens') ? [...turn.faults, 'max_tokens' as const] : turn.faults;
    return { content: cut.content, stopReason: 'max_tokens', faults };
  }
  return { content: turn.content, stopReason: natural, faults: turn.faults };
}
