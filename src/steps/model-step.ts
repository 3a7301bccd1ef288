/**
 * The part `claude` and `analyze` steps share: evaluate the declared context,
 * build the compact prompt, and project the call's cost for the budget guard.
 */
import { definitionMapping, evaluateMapping } from '../expr/index.js';
import { DEFAULT_MAX_TOKENS } from '../model/defaults.js';
import type { ToolCallRequest } from '../model/call.js';
import { projectCall, projection, toolCallParams, type CallProjection } from '../model/call.js';
import { exactInputTokens } from '../model/count.js';
import { buildPrompt, defaultSummaryLimits, summarize, type SummaryMode } from '../model/prompt.js';
import { renderContextValue, trimToTokens } from '../model/trim.js';
import { isBoundedContext } from '../definition/fields.js';
import type { Scope } from '../expr/index.js';
import { splitShared } from '../model/shared-context.js';
import { marksPrefix } from '../model/cache.js';
import { budgetAllows } from '../policy/budget.js';
import { calibratedInput, highestCalibration, UNCALIBRATED_SPREAD, type Calibration } from '../policy/calibration.js';
import { addUsage } from '../run/types.js';
import { parseDuration } from '../util/duration.js';
import type { CallEstimate, PreparedStep, StepEnv } from './types.js';
import { scopeOf } from './types.js';
import { lastErrorOf } from '../compile/context.js';
import { narrowForRetry } from './retry-context.js';
import { feedbackFor } from './feedback.js';

export interface ModelStepSpec {
  readonly prompt: string;
  readonly context?: Record<string, unknown> | undefined;
  readonly system?: string | undefined;
  readonly model?: string | undefined;
  readonly maxTokens?: number | undefined;
  readonly timeout?: number | string | undefined;
  readonly summary?: SummaryMode | undefined;
  /** Keys of `context` that are the same for every call of the step: sent first, in the cached prefix. */
  readonly shared?: readonly string[] | undefined;
  readonly cache?: boolean | undefined;
}

/** After a `max_tokens` stop the next attempt may use twice the limit. */
function maxTokensFor(env: StepEnv, spec: ModelStepSpec): number {
  const base = spec.maxTokens ?? env.workflow.maxTokens ?? DEFAULT_MAX_TOKENS;
  return lastErrorOf(env.context, env.stepId)?.kind === 'max_tokens' ? base * 2 : base;
}

/**
 * Whether a failed model call may be retried: as the call says, except that a
 * `max_tokens` stop is retried once (with twice the limit, see
 * {@link maxTokensFor}); a second one in a row fails the step as `max_tokens`.
 */
export function mayRetry(env: StepEnv, call: { readonly kind: string; readonly retryable: boolean }): boolean {
  return call.retryable && !(call.kind === 'max_tokens' && lastErrorOf(env.context, env.stepId)?.kind === 'max_tokens');
}

/**
 * Prepares a model step's request. `narrowed` is a smaller tool for a retry
 * (a `claude` step's schema without the fields it kept from an invalid
 * input); it is sent only when the request caches no prefix: the tool opens
 * the cached prefix, so a changed tool would miss the entry the first attempt
 * wrote and write it again at 1.25× instead of reading it at 0.1×.
 */
export async function prepareModelStep(
  env: StepEnv,
  spec: ModelStepSpec,
  tool: ToolCallRequest['tool'],
  narrowed?: ToolCallRequest['tool'],
): Promise<PreparedStep> {
  const scope = scopeOf(env);
  const values = spec.context ? await contextValues(spec.context, scope) : {};
  // Prompts may hold `{% %}` templates too; plain text passes through unchanged.
  const text = async (template: string) => {
    if (!template.includes('{%')) return template;
    const value = await evaluateMapping(definitionMapping(template), scope);
    return typeof value === 'string' ? value : JSON.stringify(value ?? '');
  };
  const { shared, rest: all } = splitShared(values, spec.shared);
  // A retry after an invalid input sends of the context what its rejected fields need (the shared part, in the
  // cached prefix, stays as it is).
  const lastError = lastErrorOf(env.context, env.stepId);
  const { context: rest, narrowed: narrowedContext } =
    lastError?.kind === 'invalid_data' && lastError.rejected ? narrowForRetry(all, lastError.rejected) : { context: all, narrowed: false };
  const stable: ToolCallRequest = {
    model: spec.model ?? env.workflow.model ?? env.model.model,
    maxTokens: maxTokensFor(env, spec),
    ...(spec.system ? { system: await text(spec.system) } : {}),
    prompt: '',
    ...(shared ? { shared } : {}),
    cache: spec.cache ?? env.workflow.cache ?? true,
    tool,
    timeoutMs: spec.timeout !== undefined ? parseDuration(spec.timeout) : env.model.timeoutMs,
  };
  // The prompt comes after every breakpoint: whether a prefix is cached does not depend on it.
  const narrow = narrowed !== undefined && !marksPrefix(toolCallParams(stable));
  const feedback = feedbackFor(lastError, narrowed === undefined || narrow);
  const instructions = await text(spec.prompt);
  const prompt = buildPrompt({
    instructions,
    context: rest,
    summary: summarize(env.context, env.stepId, defaultSummaryLimits, spec.summary ?? env.workflow.summary ?? 'outputs'),
    ...(feedback ? { feedback } : {}),
  });
  const request: ToolCallRequest = { ...stable, prompt, tool: narrow ? narrowed : tool };
  const params = toolCallParams(request);
  const estimate = callEstimate(params.model, projectCall(params), async () => {
    // A new run is stored before the count, so a cancel can reach it meanwhile.
    await env.beforeWaiting?.();
    // Bounded as the call is: the step's timeout per request, its signal (a cancel ends the count too).
    return exactInputTokens(env.model, params, { timeoutMs: request.timeoutMs, signal: env.signal });
  });
  const { projectedTokens, projectedUsd } = estimate.at(env.context.calibration);
  return { request, projectedTokens, projectedUsd, estimate, instructions, ...(feedback ? { feedback } : {}), ...(narrowedContext ? { narrowedContext } : {}) };
}

/**
 * A call's projections as the budget may take them (the engine decides which: ../engine/reserve-call.ts): its local
 * input estimate (and its cache-marked prefix, projected as written) scaled by a calibration, or at
 * {@link UNCALIBRATED_SPREAD}×, or the model server's exact count (`count_tokens`), each plus `max_tokens`. The exact
 * count does not say how much of the input the prefix holds: a marked request then counts all of it as possibly written.
 */
export function callEstimate(model: string, local: CallProjection, count: () => Promise<number | null>): CallEstimate {
  const spread = (tokens: number) => Math.ceil(tokens * UNCALIBRATED_SPREAD);
  return {
    estimatedInput: local.inputTokens,
    at: (calibration) => scaledProjection(model, local, calibration),
    spread: () => projection(model, spread(local.inputTokens), spread(local.cacheWriteTokens), local.maxTokens),
    async exact() {
      const counted = await count();
      return counted === null ? null : { counted, projection: projection(model, counted, local.cacheWriteTokens > 0 ? counted : 0, local.maxTokens) };
    },
  };
}

/** A local projection with its input and its cache-marked prefix scaled by a calibration. */
function scaledProjection(model: string, local: CallProjection, calibration: Calibration | undefined): CallProjection {
  return projection(model, calibratedInput(local.inputTokens, calibration), calibratedInput(local.cacheWriteTokens, calibration), local.maxTokens);
}

/** A step's `context:` with each bounded entry replaced by its value expression, made once per definition value. */
const contextMappings = new WeakMap<Record<string, unknown>, Record<string, unknown>>();

function contextMapping(context: Record<string, unknown>): Record<string, unknown> {
  let mapping = contextMappings.get(context);
  if (!mapping) {
    mapping = Object.fromEntries(Object.entries(context).map(([key, entry]) => [key, isBoundedContext(entry) ? entry.value : entry]));
    contextMappings.set(context, mapping);
  }
  return mapping;
}

/**
 * The values of `context:`, evaluated against the run; a `{ value, maxTokens }`
 * entry becomes its rendered text, cut to `maxTokens` tokens.
 */
async function contextValues(context: Record<string, unknown>, scope: Scope): Promise<Record<string, unknown>> {
  const values = (await evaluateMapping(definitionMapping(contextMapping(context)), scope)) as Record<string, unknown>;
  for (const [key, entry] of Object.entries(context)) {
    if (isBoundedContext(entry)) values[key] = trimToTokens(renderContextValue(values[key]), entry.maxTokens);
  }
  return values;
}

/** What a model step's call takes from its attempt: the attempt's signal, its continuations' budget check, and where each reply's usage is told as it comes. */
export function attemptCall(env: StepEnv, model: string): Pick<ToolCallRequest, 'signal' | 'mayContinue' | 'onReply'> {
  return { signal: env.signal, mayContinue: continuationBudget(env, model), ...(env.spent ? { onReply: env.spent } : {}) };
}

/**
 * The budget check of a step's `pause_turn` continuations: the same rule as
 * the budget's before the first call. A continuation is projected as the first
 * call is: calibrated (at the highest ratio the run or its family knows), its
 * marked prefix as written. With the engine's budget (`env.budget`) the
 * attempt's reservation is extended to what it has spent so far plus the
 * continuation, in the pool shared with the steps and runs beside it (up to
 * the top run); without it, the run's usage plus what the attempt spent is
 * checked against the run's own budget. `model` is the step's.
 */
export function continuationBudget(env: StepEnv, model: string): NonNullable<ToolCallRequest['mayContinue']> {
  return (local, spent) => {
    const shared = env.budget;
    const scaled = scaledProjection(model, local, highestCalibration(env.context.calibration, shared?.calibration()));
    if (shared) {
      const refusal = shared.extend({ tokens: spent.totalTokens + scaled.projectedTokens, usd: spent.usd + scaled.projectedUsd });
      return refusal === null ? { allowed: true } : { allowed: false, reason: refusal };
    }
    return budgetAllows({ used: addUsage(env.context.usage, spent), projectedTokens: scaled.projectedTokens, projectedUsd: scaled.projectedUsd, budget: env.context.budget });
  };
}
