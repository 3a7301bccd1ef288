/** The `analyze` step executor: structured output validated against the step's JSON Schema. */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it, vi } from 'vitest';
import { ANALYSIS_TOOL, analyzeStep } from '../../src/steps/analyze.js';
import { env, withModel } from './helpers.js';

const schema = {
  type: 'object',
  required: ['category', 'priority', 'summary'],
  properties: {
    category: { enum: ['billing', 'outage', 'bug', 'question'] },
    priority: { enum: ['low', 'normal', 'urgent'] },
    summary: { type: 'string', minLength: 1, maxLength: 200 },
  },
  additionalProperties: false,
};

const workflow = {
  id: 'triage',
  steps: {
    classify: {
      analyze: { prompt: 'Classify the ticket.', context: { ticket: '{% $input.document %}' }, schema, maxTokens: 300 },
      next: 'done',
    },
    done: { final: true },
  },
};

const validate = new Ajv2020({ strict: false }).compile(schema);

describe('analyze step', () => {
  it('asks for the analysis through a forced record_analysis tool and returns it when it matches the schema', async () => {
    await withModel({ seed: 3 }, async ({ model }) => {
      const create = vi.spyOn(model.client.messages, 'create');
      const e = env({ workflow, stepId: 'classify', tools: [], model });
      const prepared = await analyzeStep.prepare(e);
      const outcome = await analyzeStep.execute(e, prepared);
      const body = create.mock.calls[0]![0] as unknown as Record<string, unknown>;
      expect(body['tool_choice']).toEqual({ type: 'tool', name: ANALYSIS_TOOL, disable_parallel_tool_use: true });
      expect((body['tools'] as Array<{ input_schema: unknown }>)[0]!.input_schema).toEqual(schema);
      expect(body['max_tokens']).toBe(300);
      expect(outcome.ok).toBe(true);
      if (!outcome.ok) return;
      expect(validate(outcome.output)).toBe(true);
      expect(outcome.usage.totalTokens).toBeGreaterThan(0);
    });
  });

  it('rejects an analysis that does not match the schema as a retryable invalid_data failure naming the problem', async () => {
    await withModel({ seed: 3, faults: 'invalid_input=1' }, async ({ model }) => {
      const e = env({ workflow, stepId: 'classify', tools: [], model });
      const outcome = await analyzeStep.execute(e, await analyzeStep.prepare(e));
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.retryable).toBe(true);
      expect(outcome.error.kind).toBe('invalid_data');
      expect(outcome.error.message).toMatch(/^the analysis does not match the step schema: /);
      expect(validate(outcome.input)).toBe(false);
      const first = validate.errors![0]!;
      expect(outcome.error.message).toContain(`${first.instancePath || '(analysis)'} ${first.message}`);
    });
  });
});
