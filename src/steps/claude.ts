/**
 * `claude` step: Claude fills the input of one named tool (forced
 * `tool_choice`), the tool's zod schema validates it, then the tool runs.
 * An invalid input is a retryable failure whose message is fed back; so is
 * an error the tool throws, unless it says `retryable: false` or the step's
 * `retryOn` does not list it (src/steps/tool-retry.ts). With `review`, a
 * valid input waits for a person first (the outcome carries `review`); the
 * approved input's attempt runs the tool alone.
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
import { attemptCall, mayRetry, prepareModelStep } from './model-step.js';
import { toolErrorRetryable } from './tool-retry.js';
import type { PreparedStep, StepEnv, StepExecutor, StepOutcome } from './types.js';
import { scopeOf } from './types.js';
import { definitionMapping, evaluateCondition, evaluateMapping } from '../expr/index.js';
import { fieldVerdicts, givenFieldIssues, mergeKnown, omitFields, onlyKnownFieldsInvalid, pick } from './partial-input.js';
import { lastErrorOf, stepRunOf } from '../compile/context.js';
import { REVIEW_PROMPT_MAX_CHARS, reviewed } from '../kinds/review.js';
import { boundText } from './feedback.js';
import type { AnyTool } from '../tools/define.js';
import { messageOf } from '../util/error-message.js';
import { parseDuration } from '../util/duration.js';

function toolOf(env: StepEnv) {
  const step = stepOf(env.workflow, env.stepId) as ClaudeStep;
  const tool = env.tools.get(step.claude.tool);
  if (!tool) throw new StepwiseError('tool_missing', `step "${env.stepId}" uses tool "${step.claude.tool}", which no module provides`);
  return { step, tool };
}

/** Whether the valid input the model proposed waits for a person: `review: true`, or `review.when` holding with `$proposed` bound to it. */
async function needsReview(env: StepEnv, step: ClaudeStep, proposed: unknown): Promise<boolean> {
  if (!reviewed(step)) return false;
  if (typeof step.review !== 'object') return true;
  return evaluateCondition(step.review.when, { ...scopeOf(env), proposed });
}

/** The step's `timeout`, which bounds each model request and, separately, the tool call; null without one. */
const toolTimeoutOf = (step: ClaudeStep): number | null => (step.timeout === undefined ? null : parseDuration(step.timeout));

/** The approved input's attempt: the tool runs with it, the model is not called. */
async function runApproved(env: StepEnv, step: ClaudeStep, tool: AnyTool, input: unknown): Promise<StepOutcome> {
  const valid = validateToolInput(tool, input);
  if (!valid.ok) {
    return { ok: false, error: { kind: 'invalid_data', message: `the approved input for ${tool.name} is invalid: ${valid.message}` }, retryable: false, input, usage: zeroUsage, latencyMs: 0 };
  }
  const fingerprint = loopFingerprint(input);
  const started = Date.now();
  const result = await invokeTool(env, tool, valid.value, toolTimeoutOf(step));
  const latencyMs = Date.now() - started;
  if (!result.ok) {
    const retryable = toolErrorRetryable(result.thrown, step.retryOn, result.retryable);
    return { ok: false, error: result.error, retryable, input: valid.value, usage: zeroUsage, latencyMs, fingerprint };
  }
  return { ok: true, output: result.output, input: valid.value, usage: zeroUsage, latencyMs, fingerprint };
}

const withMisfit = (step: string, tool: string, issues: string) => `the with: values of step "${step}" do not fit the input of ${tool}: ${issues}`;

export const claudeStep: StepExecutor = {
  async prepare(env) {
    const { step, tool } = toolOf(env);
    const approved = stepRunOf(env.context, env.stepId).review?.approved;
    if (approved) return { request: null, toolInput: approved.input, projectedTokens: 0, projectedUsd: 0 };
    // `with:` fields are the application's: evaluated now, left out of the schema the model fills.
    const given = step.claude.with === undefined ? undefined : ((await evaluateMapping(definitionMapping(step.claude.with), scopeOf(env))) as Record<string, unknown>);
    // Values that do not fit the tool are not the model's to fix: the step fails here, before a paid call (no retry).
    const misfit = given === undefined ? null : givenFieldIssues(tool, given);
    if (misfit !== null) throw new Error(withMisfit(env.stepId, tool.name, misfit));
    // After an invalid input, the fields that passed are kept too: the retry asks the model only for the rest.
    const lastError = lastErrorOf(env.context, env.stepId);
    const accepted = lastError?.kind === 'invalid_data' ? lastError.accepted : undefined;
    const known = accepted === undefined ? given : { ...accepted, ...given };
    const asked = (fields: Record<string, unknown> | undefined) => ({
      name: tool.name,
      description: tool.description,
      input_schema: omitFields(toolInputSchema(tool), Object.keys(fields ?? {})),
    });
    // Its schema leaves the kept fields out too, unless the request caches a prefix a changed tool would miss (prepareModelStep).
    const spec = { ...step.claude, ...(step.timeout !== undefined ? { timeout: step.timeout } : {}) };
    const prepared = await prepareModelStep(env, spec, asked(given), accepted === undefined ? undefined : asked(known));
    return known === undefined ? prepared : { ...prepared, toolInput: known };
  },

  async execute(env: StepEnv, prepared: PreparedStep): Promise<StepOutcome> {
    const { step, tool } = toolOf(env);
    if (!prepared.request) {
      if (prepared.toolInput === undefined) throw new Error('claude step prepared without a request');
      return runApproved(env, step, tool, prepared.toolInput);
    }
    const open = await breakerRejects(env, tool.name);
    if (open) return { ok: false, error: open, retryable: false, usage: zeroUsage, latencyMs: 0 };
    const call = await callForToolInput(env.model, { ...prepared.request, ...attemptCall(env, prepared.request.model) });
    if (!call.ok) {
      return { ok: false, error: { kind: call.kind, message: call.message }, retryable: mayRetry(env, call), usage: call.usage, estimatedInput: call.estimatedInput, latencyMs: call.latencyMs };
    }
    // A reply the store cannot keep never reaches the tool: the step fails before any side effect.
    const reply = storable(call.input, env.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
    if (!reply.ok) {
      return {
        ok: false,
        error: { kind: 'invalid_output', message: `the input Claude gave for ${tool.name} cannot be stored: ${reply.reason}` },
        retryable: false,
        usage: call.usage, estimatedInput: call.estimatedInput,
        latencyMs: call.latencyMs,
      };
    }
    const known = prepared.toolInput as Record<string, unknown> | undefined;
    const input = known === undefined ? call.input : mergeKnown(call.input, known);
    const fingerprint = loopFingerprint(input);
    const valid = validateToolInput(tool, input);
    if (!valid.ok) {
      // Values the application filled in (`with:`) that fail the schema are not the model's to fix: no retry.
      const given = Object.keys(step.claude.with ?? {});
      const ours = known !== undefined && given.length > 0 && onlyKnownFieldsInvalid(tool, input, pick(known, given));
      const verdicts = ours ? undefined : fieldVerdicts(tool, toolInputSchema(tool), input, given);
      const accepted = verdicts?.accepted;
      return {
        ok: false,
        error: {
          kind: 'invalid_data',
          message: ours
            ? withMisfit(env.stepId, tool.name, valid.message)
            : `the input Claude gave for ${tool.name} is invalid: ${valid.message}`,
        },
        retryable: !ours,
        input,
        usage: call.usage, estimatedInput: call.estimatedInput,
        latencyMs: call.latencyMs,
        fingerprint,
        ...(accepted ? { accepted } : {}),
        // A narrowed retry rejected again leaves them out: the next attempt sends the whole context.
        ...(verdicts && !prepared.narrowedContext ? { rejected: verdicts.rejected } : {}),
      };
    }
    let review: boolean;
    try {
      review = await needsReview(env, step, valid.value);
    } catch (error) {
      const message = messageOf(error);
      return { ok: false, error: { kind: 'invalid_data', message: `review.when: ${message}` }, retryable: false, input: valid.value, usage: call.usage, estimatedInput: call.estimatedInput, latencyMs: call.latencyMs, fingerprint };
    }
    if (review) {
      // The reviewer judges the whole input (`with:` values included) against the tool's full schema, reading the prompt this attempt sent.
      const schema = toolInputSchema(tool) as Record<string, unknown>;
      const prompt = prepared.instructions === undefined ? {} : { prompt: boundText(prepared.instructions, REVIEW_PROMPT_MAX_CHARS) };
      return { ok: true, output: null, input: valid.value, usage: call.usage, estimatedInput: call.estimatedInput, latencyMs: call.latencyMs, fingerprint, review: { tool: tool.name, schema, ...prompt } };
    }
    const started = Date.now();
    // The model's tokens are spent: an outcome whatever the tool does (a failure, a timeout) charges them.
    const result = await invokeTool(env, tool, valid.value, toolTimeoutOf(step));
    const latencyMs = call.latencyMs + (Date.now() - started);
    if (!result.ok) {
      const retryable = toolErrorRetryable(result.thrown, toolOf(env).step.retryOn, result.retryable);
      return { ok: false, error: result.error, retryable, input: valid.value, usage: call.usage, estimatedInput: call.estimatedInput, latencyMs, fingerprint };
    }
    return { ok: true, output: result.output, input: valid.value, usage: call.usage, estimatedInput: call.estimatedInput, latencyMs, fingerprint };
  },
};
