import { describe, expect, it } from 'vitest';
import { withEmulator } from './helpers.js';

const tools = [
  { name: 'first_tool', description: 'First.', input_schema: { type: 'object' as const, properties: { code: { type: 'string' } }, required: ['code'] } },
  { name: 'second_tool', description: 'Second.', input_schema: { type: 'object' as const, properties: { code: { type: 'string' } }, required: ['code'] } },
];
const task = 'Code: A-1\nCall first_tool, then second_tool.';

function turnAfter(isError: boolean) {
  return [
    { role: 'user' as const, content: task },
    { role: 'assistant' as const, content: [{ type: 'tool_use' as const, id: 'toolu_1', name: 'first_tool', input: { code: 'A-1' } }] },
    { role: 'user' as const, content: [{ type: 'tool_result' as const, tool_use_id: 'toolu_1', content: 'bad input', ...(isError ? { is_error: true } : {}) }] },
  ];
}

describe('auto mode after a tool error', () => {
  it('calls a tool again when its result came back with is_error', async () => {
    await withEmulator({}, async ({ client }) => {
      const reply = await client.messages.create({ model: 'm', max_tokens: 300, messages: turnAfter(true), tools });
      const call = reply.content.find((b) => b.type === 'tool_use');
      expect(call && call.type === 'tool_use' ? call.name : null).toBe('first_tool');
    });
  });

  it('moves on when the result was not an error', async () => {
    await withEmulator({}, async ({ client }) => {
      const reply = await client.messages.create({ model: 'm', max_tokens: 300, messages: turnAfter(false), tools });
      const call = reply.content.find((b) => b.type === 'tool_use');
      expect(call && call.type === 'tool_use' ? call.name : null).toBe('second_tool');
    });
  });
});
