/**
 * `claude` step: Claude fills the input of one named tool (forced
 * `tool_choice`), the tool's zod schema validates it, then the tool runs.
 * An invalid input is a retryable failure whose message is fed back.
 */
import { stepOf } from '../definition/sequences.js';
import type { ClaudeStep } from '../definition/schema.js';
import { callForToolInput } from '../model/call.js';
import { toolInputSchema } from '../tools/define.js';
import { loopFingerprint } from '../policy/loop.js';
import { zeroUsage } from '../run/types.js';
import { StepwiseError } from '../errors.js';
import { DEFAULT_MAX_OUTPUT_BYTES, storable } from '../run/storable.js';
import { breakerRejects } from './breaker-gate.js';
import { invokeTool, validateToolInput } from './invoke-tool.js';
import { continuationBudget, mayRetry, prepareModelStep } from './model-step.js';
import type { PreparedStep, StepEnv, StepExecutor, StepOutcome } from './types.js';

function toolOf(env: StepEnv) {
  const step = stepOf(env.workflow, env.stepId) as ClaudeStep;
  const tool = env.tools.get(step.claude.tool);
  if (!tool) throw new StepwiseError('tool_missing', `step "${env.stepId}" uses tool "${step.claude.tool}", which no module provides`);
  return { step, tool };
}

export const claudeStep: StepExecutor = {
  async prepare(env) {
    const { step, tool } = toolOf(env);
    return prepareModelStep(env, { ...step.claude, ...(step.timeout !== undefined ? { timeout: step.timeout } : {}) }, {
      name: tool.name,
      description: tool.description,
      input_schema: toolInputSchema(tool),
    });
  },

  async execute(env: StepEnv, prepared: PreparedStep): Promise<StepOutcome> {
    const { tool } = toolOf(env);
    if (!prepared.request) throw new Error('claude step prepared without a request');
    const open = await breakerRejects(env, tool.name);
    if (open) return { ok: false, error: open, retryable: false, usage: zeroUsage, latencyMs: 0 };
    const call = await callForToolInput(env.model, { ...prepared.request, signal: env.signal, mayContinue: continuationBudget(env) });
    if (!call.ok) {
      return { ok: false, error: { kind: call.kind, message: call.message }, retryable: mayRetry(env, call), usage: call.usage, latencyMs: call.latencyMs };
    }
    // A reply the store cannot keep never reaches the tool: the step fails before any side effect.
    const reply = storable(call.input, env.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
    if (!reply.ok) {
      return {
        ok: false,
        error: { kind: 'invalid_output', message: `the input Claude gave for ${tool.name} cannot be stored: ${reply.reason}` },
        retryable: false,
        usage: call.usage,
        latencyMs: call.latencyMs,
      };
    }
    const fingerprint = loopFingerprint(call.input);
    const valid = validateToolInput(tool, call.input);
    if (!valid.ok) {
      return {
        ok: false,
        error: { kind: 'invalid_data', message: `the input Claude gave for ${tool.name} is invalid: ${valid.message}` },
        retryable: true,
        input: call.input,
        usage: call.usage,
        latencyMs: call.latencyMs,
        fingerprint,
      };
    }
    const started = Date.now();
    const result = await invokeTool(env, tool, valid.value);
    const latencyMs = call.latencyMs + (Date.now() - started);
    if (!result.ok) {
      return { ok: false, error: result.error, retryable: result.retryable, input: valid.value, usage: call.usage, latencyMs, fingerprint };
    }
    return { ok: true, output: result.output, input: valid.value, usage: call.usage, latencyMs, fingerprint };
  },
};
