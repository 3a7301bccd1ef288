/** The `claude` step executor against the emulator, through the real SDK. */
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { claudeStep } from '../../src/steps/claude.js';
import { countRequestTokens } from '../../src/model/tokens.js';
import { toolCallParams } from '../../src/model/call.js';
import { context, document, env, invoiceInput, recordingTool, withModel } from './helpers.js';

const workflow = {
  id: 'wf',
  steps: {
    extract: {
      claude: {
        tool: 'record_invoice',
        prompt: 'Extract the invoice fields from the document.',
        context: { document: '{% $input.document %}' },
        system: 'You extract invoices.',
        maxTokens: 400,
      },
      next: 'done',
    },
    done: { final: true },
  },
};

describe('claude step', () => {
  it('evaluates {% %} templates in prompt and system against the run', async () => {
    await withModel({ seed: 1 }, async ({ model }) => {
      const { tool } = recordingTool('record_invoice', invoiceInput, (v) => v);
      const templated = {
        ...workflow,
        steps: {
          ...workflow.steps,
          extract: {
            ...workflow.steps.extract,
            claude: { ...workflow.steps.extract.claude, prompt: 'Extract invoice {% $input.n %} of {% $count($keys($input)) %} fields.', system: 'Run {% $run.id %}.' },
          },
        },
      };
      const prepared = await claudeStep.prepare(env({ workflow: templated, stepId: 'extract', tools: [tool], model }));
      expect(prepared.request!.prompt).toMatch(/<instructions>\nExtract invoice \S+ of \d+ fields\.\n<\/instructions>/);
      expect(prepared.request!.prompt).not.toContain('{%');
      expect(prepared.request!.system).toBe('Run run-1.');
    });
  });

  it('forces tool_choice to the one tool, sends only the declared context, and runs the tool on a valid input', async () => {
    await withModel({ seed: 1 }, async ({ model }) => {
      const { tool, calls } = recordingTool('record_invoice', invoiceInput, (v) => ({ recorded: true, ...v }));
      const create = vi.spyOn(model.client.messages, 'create');
      const e = env({ workflow, stepId: 'extract', tools: [tool], model, attempt: 2 });
      const prepared = await claudeStep.prepare(e);
      const outcome = await claudeStep.execute(e, prepared);

      expect(create).toHaveBeenCalledTimes(1);
      const body = create.mock.calls[0]![0] as unknown as Record<string, unknown>;
      expect(body['tool_choice']).toEqual({ type: 'tool', name: 'record_invoice', disable_parallel_tool_use: true });
      expect(body['tools']).toEqual([
        { name: 'record_invoice', description: 'The record_invoice tool.', input_schema: expect.objectContaining({ type: 'object', required: ['invoiceNumber', 'vendorId', 'total', 'currency'] }) },
      ]);
      expect(body['max_tokens']).toBe(400);
      expect(body['model']).toBe(model.model);
      expect(body['system']).toBe('You extract invoices.');
      const messages = body['messages'] as Array<{ role: string; content: string }>;
      expect(messages).toHaveLength(1);
      expect(messages[0]!.role).toBe('user');
      expect(messages[0]!.content).toContain('<instructions>\nExtract the invoice fields from the document.\n</instructions>');
      expect(messages[0]!.content).toContain(`<document>\n${document}\n</document>`);
      expect(messages[0]!.content).not.toContain('previous_attempt_rejected');
      // The raw run input is not sent beyond what `context:` declares.
      expect(messages[0]!.content).not.toContain('"n"');

      expect(outcome.ok).toBe(true);
      if (!outcome.ok) return;
      expect(invoiceInput.safeParse(outcome.input).success).toBe(true);
      expect(outcome.input).toMatchObject({ vendorId: 'V-1001', invoiceNumber: 'INV-2041' });
      expect(outcome.output).toEqual({ recorded: true, ...(outcome.input as object) });
      expect(calls).toEqual([{ input: outcome.input, idempotencyKey: 'run-1:extract:1:2' }]);
      expect(outcome.usage.inputTokens).toBeGreaterThan(0);
      expect(outcome.usage.outputTokens).toBeGreaterThan(0);
      expect(outcome.usage.totalTokens).toBe(outcome.usage.inputTokens + outcome.usage.outputTokens);
      expect(outcome.fingerprint).toEqual(expect.any(String));
      // The budget projection counts exactly the input tokens the server charges, plus max_tokens.
      expect(prepared.projectedTokens).toBe(outcome.usage.inputTokens + 400);
      expect(prepared.projectedTokens).toBe(countRequestTokens(toolCallParams(prepared.request!)) + 400);
    });
  });

  it('reports an invalid tool input as a retryable invalid_data failure with the validation message, without running the tool', async () => {
    await withModel({ seed: 1, faults: 'invalid_input=1' }, async ({ model }) => {
      const { tool, calls } = recordingTool('record_invoice', invoiceInput);
      const e = env({ workflow, stepId: 'extract', tools: [tool], model });
      const outcome = await claudeStep.execute(e, await claudeStep.prepare(e));
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.retryable).toBe(true);
      expect(outcome.error.kind).toBe('invalid_data');
      const parsed = invoiceInput.safeParse(outcome.input);
      expect(parsed.success).toBe(false);
      const firstIssue = parsed.error!.issues[0]!;
      expect(outcome.error.message).toContain('the input Claude gave for record_invoice is invalid: ');
      expect(outcome.error.message).toContain(`${firstIssue.path.join('.') || '(input)'}: ${firstIssue.message}`);
      expect(outcome.usage.totalTokens).toBeGreaterThan(0);
      expect(calls).toEqual([]);
    });
  });

  it('feeds the previous validation error back into the prompt of the next attempt', async () => {
    await withModel({ seed: 1 }, async ({ model }) => {
      const { tool } = recordingTool('record_invoice', invoiceInput);
      const message = 'the input Claude gave for record_invoice is invalid: vendorId: Invalid string';
      const e = env({ workflow, stepId: 'extract', tools: [tool], model, attempt: 2, context: context({ active: { extract: { attempt: 2, retryAt: null, enteredAt: 0 } }, lastError: { kind: 'invalid_data', message } }) });
      const prepared = await claudeStep.prepare(e);
      expect(prepared.request!.prompt).toContain(`<previous_attempt_rejected>\n${message}\nFix these problems in your answer.\n</previous_attempt_rejected>`);
      const outcome = await claudeStep.execute(e, prepared);
      expect(outcome.ok).toBe(true);
    });
  });

  it('feeds the error the tool threw on the previous attempt back, prefixed, and records it on the prepared attempt', async () => {
    await withModel({ seed: 1 }, async ({ model }) => {
      const { tool } = recordingTool('record_invoice', invoiceInput);
      const message = 'record_invoice: unknown vendor id V-0042';
      const e = env({ workflow, stepId: 'extract', tools: [tool], model, attempt: 2, context: context({ active: { extract: { attempt: 2, retryAt: null, enteredAt: 0 } }, lastError: { kind: 'tool_error', message } }) });
      const prepared = await claudeStep.prepare(e);
      expect(prepared.request!.prompt).toContain(`<previous_attempt_rejected>\nThe tool failed: ${message}\nFix these problems in your answer.\n</previous_attempt_rejected>`);
      expect(prepared.feedback).toBe(`The tool failed: ${message}`);
      // A timeout holds nothing Claude could correct: no feedback.
      const timedOut = env({ workflow, stepId: 'extract', tools: [tool], model, context: context({ lastError: { kind: 'timeout', message: 'took 30s' } }) });
      expect((await claudeStep.prepare(timedOut)).feedback).toBeUndefined();
    });
  });

  it('doubles max_tokens on the attempt after a max_tokens stop', async () => {
    await withModel({ seed: 1 }, async ({ model }) => {
      const { tool } = recordingTool('record_invoice', invoiceInput);
      const e = env({ workflow, stepId: 'extract', tools: [tool], model, context: context({ lastError: { kind: 'max_tokens', message: 'cut' } }) });
      const prepared = await claudeStep.prepare(e);
      expect(prepared.request!.maxTokens).toBe(800);
      expect(prepared.request!.prompt).not.toContain('previous_attempt_rejected');
    });
  });

  it('turns a tool that throws into a tool_error; retryable unless the error says retryable: false', async () => {
    await withModel({ seed: 1 }, async ({ model }) => {
      const flaky = recordingTool('record_invoice', invoiceInput, () => {
        throw new Error('ERP unavailable');
      });
      const e = env({ workflow, stepId: 'extract', tools: [flaky.tool], model });
      const outcome = await claudeStep.execute(e, await claudeStep.prepare(e));
      expect(outcome).toMatchObject({ ok: false, retryable: true, error: { kind: 'tool_error', message: 'record_invoice: ERP unavailable' } });
      expect(flaky.calls).toHaveLength(1);
      expect(outcome.usage.totalTokens).toBeGreaterThan(0);

      const fatal = recordingTool('record_invoice', invoiceInput, () => {
        throw Object.assign(new Error('duplicate invoice'), { retryable: false });
      });
      const e2 = env({ workflow, stepId: 'extract', tools: [fatal.tool], model });
      expect(await claudeStep.execute(e2, await claudeStep.prepare(e2))).toMatchObject({
        ok: false,
        retryable: false,
        error: { kind: 'tool_error', message: 'record_invoice: duplicate invoice' },
      });
    });
  });

  it('passes a model failure through with its kind and retryability', async () => {
    await withModel({ seed: 1, faults: 'refusal=1' }, async ({ model }) => {
      const { tool, calls } = recordingTool('record_invoice', invoiceInput);
      const e = env({ workflow, stepId: 'extract', tools: [tool], model });
      const outcome = await claudeStep.execute(e, await claudeStep.prepare(e));
      expect(outcome).toMatchObject({ ok: false, retryable: false, error: { kind: 'refusal' } });
      expect(calls).toEqual([]);
    });
  });

  it('uses the step model when it names one', async () => {
    await withModel({ seed: 1 }, async ({ model }) => {
      const { tool } = recordingTool('record_invoice', z.object({ invoiceNumber: z.string() }));
      const wf = { ...workflow, steps: { ...workflow.steps, extract: { claude: { ...workflow.steps.extract.claude, model: 'claude-haiku-4-5' }, next: 'done' } } };
      const e = env({ workflow: wf, stepId: 'extract', tools: [tool], model });
      const prepared = await claudeStep.prepare(e);
      expect(prepared.request!.model).toBe('claude-haiku-4-5');
      const outcome = await claudeStep.execute(e, prepared);
      expect(outcome.ok).toBe(true);
    });
  });
});
