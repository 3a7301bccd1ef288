/** The worst case of one attempt of a model step (`claude`, `analyze`): its counted prompt and its `max_tokens`. */
import type { Workflow } from '../definition/schema.js';
import { DEFAULT_MAX_TOKENS } from '../model/client.js';
import { buildPrompt, defaultSummaryLimits, type SummaryMode } from '../model/prompt.js';
import { countRequestTokens } from '../model/tokens.js';
import { trimMarker } from '../model/trim.js';
import { isBoundedContext } from '../definition/fields.js';
import type { ModelBound, ToolSchema } from './types.js';

/** The fields of a model call the bound reads. */
export interface ModelCallFields {
  readonly prompt: string;
  readonly context?: Record<string, unknown> | undefined;
  readonly system?: string | undefined;
  readonly maxTokens?: number | undefined;
  readonly summary?: SummaryMode | undefined;
}

/** A context value as the bound counts it: its expression text, or for `{ value, maxTokens }` the most the prompt may hold of it. */
function boundText(entry: unknown): string {
  // As many one-token words as the bound allows, then the longest marker a prompt holds in practice.
  if (isBoundedContext(entry)) return `${'word '.repeat(entry.maxTokens)}${trimMarker(999_999)}`;
  return typeof entry === 'string' ? entry : JSON.stringify(entry);
}

/**
 * Counted input tokens of one attempt, the way `prepareModelStep` builds it:
 * run data in `context:` counts as its expression text (a `{ value, maxTokens }`
 * entry at most its bound and marker), the summary of earlier steps at its cap
 * (none with `summary: none`).
 */
export function modelBound(spec: ModelCallFields, tool: ToolSchema, workflow: Workflow): ModelBound {
  const context = Object.fromEntries(Object.entries(spec.context ?? {}).map(([key, value]) => [key, boundText(value)]));
  const summary = (spec.summary ?? workflow.summary ?? 'outputs') === 'none' ? 0 : defaultSummaryLimits.maxTokens;
  const prompt = buildPrompt({ instructions: spec.prompt, context, summary: '' });
  const inputTokens =
    countRequestTokens({
      ...(spec.system ? { system: spec.system } : {}),
      messages: [{ role: 'user', content: prompt }],
      tools: [tool],
    }) + summary;
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
