/** The `tool` step executor: the `with` mapping, input validation, tool errors. No model. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { resolveModel } from '../../src/model/client.js';
import { toolStep } from '../../src/steps/tool.js';
import { context, env, recordingTool } from './helpers.js';

// A tool step never calls the model; this client points nowhere.
const model = resolveModel({ baseURL: 'http://127.0.0.1:9', apiKey: 'x', maxRetries: 0, timeoutMs: 100 });

const vendorInput = z.object({ vendorId: z.string(), next: z.number(), note: z.string() });

const workflow = (withMapping: unknown) => ({
  id: 'wf',
  steps: {
    validate: { tool: 'check_vendor', with: withMapping, next: 'done' },
    done: { final: true },
  },
});

const ctx = context({
  visits: { validate: 2 },
  steps: { extract: { output: { vendorId: 'V-1001', total: 12 }, status: 'done', visit: 1, attempts: 1 } },
  event: { type: 'APPROVE', data: { by: 'cfo' } },
});

describe('tool step', () => {
  it('evaluates the with mapping against $input, $steps and $event, then calls the tool', async () => {
    const { tool, calls } = recordingTool('check_vendor', vendorInput, (v) => ({ status: 'active', ...v }));
    const e = env({
      workflow: workflow({ vendorId: '{% $steps.extract.output.vendorId %}', next: '{% $input.n + 1 %}', note: 'by {% $event.data.by %}' }),
      stepId: 'validate',
      tools: [tool],
      model,
      context: ctx,
      attempt: 3,
    });
    const prepared = await toolStep.prepare(e);
    expect(prepared).toEqual({ request: null, toolInput: { vendorId: 'V-1001', next: 42, note: 'by cfo' }, projectedTokens: 0, projectedUsd: 0 });
    const outcome = await toolStep.execute({ ...e, visit: 2 }, prepared);
    expect(outcome).toMatchObject({
      ok: true,
      input: { vendorId: 'V-1001', next: 42, note: 'by cfo' },
      output: { status: 'active', vendorId: 'V-1001', next: 42, note: 'by cfo' },
      usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0 },
    });
    expect(calls).toEqual([{ input: { vendorId: 'V-1001', next: 42, note: 'by cfo' }, idempotencyKey: 'run-1:validate:2:3' }]);
  });

  it('fails an invalid input as invalid_data, not retryable, without calling the tool', async () => {
    const { tool, calls } = recordingTool('check_vendor', vendorInput);
    const e = env({ workflow: workflow({ vendorId: '{% $steps.extract.output.total %}', next: 1, note: 'x' }), stepId: 'validate', tools: [tool], model, context: ctx });
    const outcome = await toolStep.execute(e, await toolStep.prepare(e));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.retryable).toBe(false);
    expect(outcome.error.kind).toBe('invalid_data');
    expect(outcome.error.message).toMatch(/^the input of check_vendor is invalid: vendorId: /);
    expect(outcome.input).toEqual({ vendorId: 12, next: 1, note: 'x' });
    expect(calls).toEqual([]);
  });

  it('turns a thrown error into a tool_error, retryable unless marked otherwise', async () => {
    const down = recordingTool('check_vendor', z.object({}), () => {
      throw new Error('ERP down');
    });
    const e = env({ workflow: workflow(undefined), stepId: 'validate', tools: [down.tool], model, context: ctx });
    const prepared = await toolStep.prepare(e);
    expect(prepared.toolInput).toEqual({});
    expect(await toolStep.execute(e, prepared)).toMatchObject({ ok: false, retryable: true, error: { kind: 'tool_error', message: 'check_vendor: ERP down' } });

    const unknown = recordingTool('check_vendor', z.object({}), () => {
      throw Object.assign(new Error('vendor V-9 is not in the ERP'), { retryable: false });
    });
    const e2 = env({ workflow: workflow(undefined), stepId: 'validate', tools: [unknown.tool], model, context: ctx });
    expect(await toolStep.execute(e2, await toolStep.prepare(e2))).toMatchObject({ ok: false, retryable: false, error: { kind: 'tool_error' } });
  });

  it('reads a thrown plain object shaped like an error: its message, and retryable: false honoured', async () => {
    const closed = recordingTool('check_vendor', z.object({}), () => {
      throw { message: 'cost centre CC-1 is closed', retryable: false, code: 'cost_centre_closed' };
    });
    const e = env({ workflow: workflow(undefined), stepId: 'validate', tools: [closed.tool], model, context: ctx });
    expect(await toolStep.execute(e, await toolStep.prepare(e))).toMatchObject({
      ok: false,
      retryable: false,
      error: { kind: 'tool_error', message: 'check_vendor: cost centre CC-1 is closed' },
    });
  });

  it('turns a thrown value that String() cannot convert into a tool_error naming the tool', async () => {
    for (const [thrown, message] of [
      [{ weird: true, toString: 5 }, 'check_vendor: {"weird":true,"toString":5}'],
      [Object.create(null), 'check_vendor: {}'],
      ['plain text', 'check_vendor: plain text'],
    ] as const) {
      const odd = recordingTool('check_vendor', z.object({}), () => {
        throw thrown;
      });
      const e = env({ workflow: workflow(undefined), stepId: 'validate', tools: [odd.tool], model, context: ctx });
      expect(await toolStep.execute(e, await toolStep.prepare(e))).toMatchObject({ ok: false, retryable: true, error: { kind: 'tool_error', message } });
    }
  });

  it('rejects in prepare when an expression of the mapping fails', async () => {
    const { tool } = recordingTool('check_vendor', vendorInput);
    const e = env({ workflow: workflow({ vendorId: '{% $input.document.( %}' }), stepId: 'validate', tools: [tool], model, context: ctx });
    await expect(toolStep.prepare(e)).rejects.toThrow();
  });
});
