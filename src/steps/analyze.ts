/**
 * `analyze` step: Claude returns a structured analysis against the step's JSON
 * Schema, through a forced `record_analysis` tool; the analysis is validated
 * with Ajv and becomes the step output.
 */
import { stepOf } from '../definition/sequences.js';
import type { AnalyzeStep } from '../definition/schema.js';
import { callForToolInput } from '../model/call.js';
import { attemptCall, mayRetry, prepareModelStep } from './model-step.js';
import type { PreparedStep, StepEnv, StepExecutor, StepOutcome } from './types.js';
import { lazyAjv } from '../util/lazy-ajv.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';

export const ANALYSIS_TOOL = 'record_analysis';

const ajv = lazyAjv();
const validators = new Map<string, Promise<ValidateFunction>>();

/** The validator of `schema`, compiled once (the promise is kept, so steps running at once share one compilation). */
function validatorFor(schema: Record<string, unknown>): Promise<ValidateFunction> {
  const key = JSON.stringify(schema);
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv().then((instance) => instance.compile(schema));
    validators.set(key, validate);
  }
  return validate;
}

export const analyzeStep: StepExecutor = {
  async prepare(env) {
    const step = stepOf(env.workflow, env.stepId) as AnalyzeStep;
    return prepareModelStep(env, { ...step.analyze, ...(step.timeout !== undefined ? { timeout: step.timeout } : {}) }, {
      name: ANALYSIS_TOOL,
      description: 'Record the analysis this step asks for, in the required structure.',
      input_schema: { type: 'object', ...step.analyze.schema },
    });
  },

  async execute(env: StepEnv, prepared: PreparedStep): Promise<StepOutcome> {
    const step = stepOf(env.workflow, env.stepId) as AnalyzeStep;
    if (!prepared.request) throw new Error('analyze step prepared without a request');
    const call = await callForToolInput(env.model, { ...prepared.request, ...attemptCall(env, prepared.request.model) });
    if (!call.ok) {
      return { ok: false, error: { kind: call.kind, message: call.message }, retryable: mayRetry(env, call), usage: call.usage, estimatedInput: call.estimatedInput, latencyMs: call.latencyMs };
    }
    const validate = await validatorFor({ type: 'object', ...step.analyze.schema });
    if (!validate(call.input)) {
      const problems = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '(analysis)'} ${e.message ?? ''}`.trim());
      return {
        ok: false,
        error: { kind: 'invalid_data', message: `the analysis does not match the step schema: ${problems.join('; ')}` },
        retryable: true,
        input: call.input,
        usage: call.usage, estimatedInput: call.estimatedInput,
        latencyMs: call.latencyMs,
      };
    }
    return { ok: true, output: call.input, usage: call.usage, estimatedInput: call.estimatedInput, latencyMs: call.latencyMs };
  },
};
