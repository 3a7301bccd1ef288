/**
 * `tool` step: the application calls a tool itself, no model. Its input comes
 * from the step's `with` mapping.
 */
import { stepOf } from '../definition/sequences.js';
import type { ToolStep } from '../definition/schema.js';
import { definitionMapping, evaluateMapping } from '../expr/index.js';
import { invokeTool, validateToolInput } from './invoke-tool.js';
import { zeroUsage } from '../run/types.js';
import { StepwiseError } from '../errors.js';
import type { StepExecutor } from './types.js';
import { scopeOf } from './types.js';



export const toolStep: StepExecutor = {
  async prepare(env) {
    const step = stepOf(env.workflow, env.stepId) as ToolStep;
    const toolInput = step.with === undefined ? {} : await evaluateMapping(definitionMapping(step.with), scopeOf(env));
    return { request: null, toolInput, projectedTokens: 0, projectedUsd: 0 };
  },

  async execute(env, prepared) {
    const step = stepOf(env.workflow, env.stepId) as ToolStep;
    const tool = env.tools.get(step.tool);
    if (!tool) throw new StepwiseError('tool_missing', `step "${env.stepId}" uses tool "${step.tool}", which no module provides`);
    const started = Date.now();
    const valid = validateToolInput(tool, prepared.toolInput);
    if (!valid.ok) {
      return {
        ok: false,
        error: { kind: 'invalid_data', message: `the input of ${tool.name} is invalid: ${valid.message}` },
        retryable: false,
        input: prepared.toolInput,
        usage: zeroUsage,
        latencyMs: 0,
      };
    }
    const result = await invokeTool(env, tool, valid.value);
    const latencyMs = Date.now() - started;
    return result.ok
      ? { ok: true, output: result.output, input: valid.value, usage: zeroUsage, latencyMs }
      : { ok: false, error: result.error, retryable: result.retryable, input: valid.value, usage: zeroUsage, latencyMs };
  },
};
