/**
 * The part `claude` and `analyze` steps share: evaluate the declared context,
 * build the compact prompt, and project the call's cost for the budget guard.
 */
import { compileMapping, evaluateMapping } from '../expr/index.js';
import { DEFAULT_MAX_TOKENS } from '../model/client.js';
import type { ToolCallRequest } from '../model/call.js';
import { projectCall, toolCallParams } from '../model/call.js';
import { buildPrompt, summarize } from '../model/prompt.js';
import { budgetAllows } from '../policy/budget.js';
import { addUsage } from '../run/types.js';
import { parseDuration } from '../util/duration.js';
import type { PreparedStep, StepEnv } from './types.js';
import { scopeOf } from './types.js';

export interface ModelStepSpec {
  readonly prompt: string;
  readonly context?: Record<string, unknown> | undefined;
  readonly system?: string | undefined;
  readonly model?: string | undefined;
  readonly maxTokens?: number | undefined;
  readonly timeout?: number | string | undefined;
}

/** After a `max_tokens` stop the next attempt may use twice the limit. */
function maxTokensFor(env: StepEnv, spec: ModelStepSpec): number {
  const base = spec.maxTokens ?? env.workflow.maxTokens ?? DEFAULT_MAX_TOKENS;
  return env.context.lastError?.kind === 'max_tokens' ? base * 2 : base;
}

/**
 * Whether a failed model call may be retried: as the call says, except that a
 * `max_tokens` stop is retried once (with twice the limit, see
 * {@link maxTokensFor}); a second one in a row fails the step as `max_tokens`.
 */
export function mayRetry(env: StepEnv, call: { readonly kind: string; readonly retryable: boolean }): boolean {
  return call.retryable && !(call.kind === 'max_tokens' && env.context.lastError?.kind === 'max_tokens');
}

export async function prepareModelStep(
  env: StepEnv,
  spec: ModelStepSpec,
  tool: ToolCallRequest['tool'],
): Promise<PreparedStep> {
  const scope = scopeOf(env);
  const values = spec.context ? ((await evaluateMapping(compileMapping(spec.context), scope)) as Record<string, unknown>) : {};
  // Prompts may hold `{% %}` templates too; plain text passes through unchanged.
  const text = async (template: string) => {
    if (!template.includes('{%')) return template;
    const value = await evaluateMapping(compileMapping(template), scope);
    return typeof value === 'string' ? value : JSON.stringify(value ?? '');
  };
  const feedback = env.context.lastError && env.context.lastError.kind === 'invalid_data' ? env.context.lastError.message : undefined;
  const prompt = buildPrompt({
    instructions: await text(spec.prompt),
    context: values,
    summary: summarize(env.context, env.stepId),
    ...(feedback ? { feedback } : {}),
  });
  const model = spec.model ?? env.workflow.model ?? env.model.model;
  const maxTokens = maxTokensFor(env, spec);
  const request: ToolCallRequest = {
    model,
    maxTokens,
    ...(spec.system ? { system: await text(spec.system) } : {}),
    prompt,
    tool,
    timeoutMs: spec.timeout !== undefined ? parseDuration(spec.timeout) : env.model.timeoutMs,
  };
  return { request, ...projectCall(toolCallParams(request)) };
}

/**
 * The budget check of a step's `pause_turn` continuations: the same rule as
 * the `withinBudget` guard before the first call, on the run's usage plus
 * what this attempt has spent so far, plus what steps running beside it hold
 * reserved (the attempt's own reservation is replaced by its actual spend).
 */
export function continuationBudget(env: StepEnv): NonNullable<ToolCallRequest['mayContinue']> {
  return (projection, spent) => {
    const shared = env.sharedBudget?.();
    const others = shared?.reservedByOthers ?? { tokens: 0, usd: 0 };
    return budgetAllows({
      used: addUsage(shared?.spent ?? env.context.usage, spent),
      projectedTokens: projection.projectedTokens + others.tokens,
      projectedUsd: projection.projectedUsd + others.usd,
      budget: env.context.budget,
    });
  };
}
