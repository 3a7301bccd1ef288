/** The worst case of one attempt of a model step (`claude`, `analyze`): its counted prompt and its `max_tokens`. */
import type { Workflow } from '../definition/schema.js';
import { DEFAULT_MAX_TOKENS } from '../model/defaults.js';
import { buildPrompt, defaultSummaryLimits } from '../model/prompt.js';
import { countRequestTokens } from '../model/tokens.js';
import type { ModelBound, ToolSchema } from './types.js';

/** The fields of a model call the bound reads. */
export interface ModelCallFields {
  readonly prompt: string;
  readonly context?: Record<string, unknown> | undefined;
  readonly system?: string | undefined;
  readonly maxTokens?: number | undefined;
}

/**
 * Counted input tokens of one attempt, the way `prepareModelStep` builds it:
 * run data in `context:` counts as its expression text, the summary of earlier
 * steps at its cap.
 */
export function modelBound(spec: ModelCallFields, tool: ToolSchema, workflow: Workflow): ModelBound {
  const context = Object.fromEntries(Object.entries(spec.context ?? {}).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
  const prompt = buildPrompt({ instructions: spec.prompt, context, summary: '' });
  const inputTokens =
    countRequestTokens({
      ...(spec.system ? { system: spec.system } : {}),
      messages: [{ role: 'user', content: prompt }],
      tools: [tool],
    }) + defaultSummaryLimits.maxTokens;
  return { inputTokens, maxTokens: spec.maxTokens ?? workflow.maxTokens ?? DEFAULT_MAX_TOKENS };
}

/** The expressions of a model call, under `key`. */
export function modelExpressions(key: string, spec: ModelCallFields): Array<readonly [unknown, Array<string | number>]> {
  return [
    [spec.context, [key, 'context']],
    [spec.prompt, [key, 'prompt']],
    [spec.system, [key, 'system']],
  ];
}
