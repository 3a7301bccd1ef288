/**
 * Context compression: a step's prompt holds its instructions, its declared
 * context and a bounded summary of earlier steps, so input tokens per step
 * stay flat as a workflow grows from 3 to 20 steps, while a loop that resends
 * the full transcript (the stateless tool-runner way) grows several-fold.
 * Both are counted with the one token counter the emulator charges with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { countRequestTokens } from '../../src/model/tokens.js';
import { defineTool, toolInputSchema } from '../../src/tools/define.js';
import { definition, rig, type Rig } from './helpers.js';

/** A tool with a realistic payload: its output is a few hundred tokens. */
const recordFinding = defineTool({
  name: 'record_finding',
  description: 'Record one finding of the audit with its evidence.',
  input: z.object({ area: z.string(), finding: z.string(), severity: z.enum(['low', 'medium', 'high']) }),
  run: async (input, ctx) => ({
    id: `F-${ctx.stepId}`,
    area: input.area,
    severity: input.severity,
    status: 'recorded',
    evidence: Array.from({ length: 12 }, (_, i) => ({ line: i + 1, text: `ledger entry ${i + 1} of ${input.area}: amount 1${i}4.50 EUR booked on 2026-01-${10 + i}, approved by clerk ${i}` })),
  }),
});

function audit(steps: number) {
  const ids = Array.from({ length: steps }, (_, i) => `check_${i + 1}`);
  const entries: Array<[string, unknown]> = ids.map((id, i) => [
    id,
    {
      claude: {
        tool: 'record_finding',
        prompt: `Audit area ${i + 1} of the ledger and record one finding.`,
        context: { area: `{% $input.areas[${i % 5}] %}`, entries: `{% $input.entries[${i % 5}] %}` },
        maxTokens: 300,
      },
      ...(i === steps - 1 ? { next: 'done' } : {}),
    },
  ]);
  return { id: `audit-${steps}`, budget: { tokens: 500_000 }, steps: Object.fromEntries([...entries, ['done', { final: true }]]) };
}

const areas = ['payables', 'receivables', 'payroll', 'travel expenses', 'fixed assets'];
/** The ledger entries each step declares in its context: the data it works on (about 250 tokens). */
const entries = areas.map((area) =>
  Array.from({ length: 8 }, (_, i) => `${area} #${100 + i}: ${(i + 1) * 137}.25 EUR, booked 2026-02-${10 + i}, approved by ${['ana', 'ben', 'chen'][i % 3]}`).join('\n'),
);
const input = { areas, entries };

let r: Rig;
beforeAll(async () => {
  r = await rig({ tools: [recordFinding] });
});
afterAll(async () => {
  await r.close();
});

async function inputTokensPerStep(steps: number): Promise<number[]> {
  const run = await r.engine.start(definition(audit(steps), [recordFinding]), { input });
  expect(run.status).toBe('done');
  return run.steps.filter((s) => s.id !== 'done').map((s) => s.inputTokens);
}

/** Input tokens of each turn of a loop that resends the whole transcript, over the same steps and tool outputs. */
async function fullTranscriptPerStep(steps: number): Promise<number[]> {
  const tool = { name: recordFinding.name, description: recordFinding.description, input_schema: toolInputSchema(recordFinding) };
  const messages: unknown[] = [];
  const perStep: number[] = [];
  for (let i = 0; i < steps; i++) {
    messages.push({ role: 'user', content: `Audit area ${i + 1} of the ledger and record one finding. Area: ${areas[i % 5]}\n${entries[i % 5]}` });
    perStep.push(countRequestTokens({ messages, tools: [tool] }));
    const call = { area: areas[i % 5]!, finding: 'A booking without its approval record.', severity: 'medium' as const };
    const output = await recordFinding.run(call, { runId: 'r', stepId: `check_${i + 1}`, visit: 1, attempt: 1, idempotencyKey: 'k', signal: new AbortController().signal });
    messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: `toolu_${i}`, name: tool.name, input: call }] });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${i}`, content: JSON.stringify(output) }] });
  }
  return perStep;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const max = (xs: readonly number[]) => Math.max(...xs);

describe('context compression', () => {
  it('input tokens per step grow by at most 1.2× from 3 to 20 steps; a full transcript grows several-fold', async () => {
    const small = await inputTokensPerStep(3);
    const large = await inputTokensPerStep(20);
    expect(large).toHaveLength(20);
    expect(mean(large) / mean(small)).toBeLessThanOrEqual(1.2);
    expect(max(large) / max(small)).toBeLessThanOrEqual(1.2);

    const full3 = await fullTranscriptPerStep(3);
    const full20 = await fullTranscriptPerStep(20);
    expect(mean(full20) / mean(full3)).toBeGreaterThan(4);
    expect(max(full20) / max(full3)).toBeGreaterThan(6);
    // The whole 20-step run sends far fewer input tokens than the transcript loop.
    expect(large.reduce((a, b) => a + b, 0) * 5).toBeLessThan(full20.reduce((a, b) => a + b, 0));
  });
});
