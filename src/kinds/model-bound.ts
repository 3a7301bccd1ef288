/**
 * The worst case of one attempt of a model step (`claude`, `analyze`): its
 * counted prompt with every `context:` value at its schema's bound (a
 * `{ value, maxTokens }` entry at its own), the progress summary (none with
 * `summary: none`) and, on a retry, the feedback at their caps; its
 * `max_tokens`; and the stable prefix it may write to the prompt cache.
 */
import type { Workflow } from '../definition/schema.js';
import { DEFAULT_MAX_TOKENS } from '../model/defaults.js';
import { buildPrompt, defaultSummaryLimits } from '../model/prompt.js';
import { trimMarker } from '../model/trim.js';
import { isBoundedContext } from '../definition/fields.js';
import { countRequestTokens, countTokens } from '../model/tokens.js';
import { minimumCacheableTokens } from '../model/cache.js';
import { splitShared } from '../model/shared-context.js';
import { FEEDBACK_MAX_CHARS, TOOL_ERROR_FEEDBACK_CHARS } from '../policy/feedback.js';
import { TOKENS_PER_CHAR } from '../policy/value-bound.js';
import { valueBound, type BoundSources } from './context-bound.js';
import type { KindFinding, ModelBound, ToolSchema } from './types.js';
import type { ModelStepSpec } from '../steps/model-step.js';

/** The fields of a model call the bound reads: those of the spec `prepareModelStep` builds the prompt from. */
export type ModelCallFields = Pick<ModelStepSpec, 'prompt' | 'context' | 'system' | 'maxTokens' | 'summary' | 'shared' | 'cache' | 'model'>;

/**
 * Tokens of the progress summary at most: its cap in raw tokens, doubled for
 * the JSON escapes of the request, plus two for each line break (the last
 * `steps + detailed` steps and the line counting older ones), plus its tags.
 */
export const SUMMARY_TOKENS =
  2 * defaultSummaryLimits.maxTokens + 2 * (defaultSummaryLimits.steps + defaultSummaryLimits.detailed + 1) + countTokens(JSON.stringify('\n\n<progress>\n\n</progress>'));

/** Tokens a retry's feedback adds at most: the longer of the invalid-input and tool-error feedback, and its wrapper. */
export const FEEDBACK_TOKENS =
  TOKENS_PER_CHAR * Math.max(FEEDBACK_MAX_CHARS, TOOL_ERROR_FEEDBACK_CHARS) +
  countTokens(JSON.stringify(buildPrompt({ instructions: '', context: {}, summary: '', feedback: ' ' }))) + 2;

/**
 * Input tokens of one attempt at most, the way `prepareModelStep` builds it,
 * the part of them the attempt may write to the prompt cache (its stable
 * prefix: the tool, the system text and the `shared:` context, when caching
 * is on and the prefix may reach the smallest cacheable length), and the
 * fields that leave it unbounded.
 */
export function modelBound(spec: ModelCallFields, tool: ToolSchema, workflow: Workflow, toolOf: BoundSources['toolOf'] = () => undefined): ModelBound {
  const sources: BoundSources = { workflow, toolOf };
  const unbounded: string[] = [];
  const sized = (value: unknown, path: string): number => {
    const bound = valueBound(value, path, sources);
    if ('unbounded' in bound) {
      unbounded.push(bound.unbounded);
      return 0;
    }
    return bound.tokens + 1;
  };
  const templated = (text: string | undefined) => text !== undefined && text.includes('{%');
  const sharedKeys = new Set(spec.shared ?? []);
  let runData = 0;
  let sharedData = 0;
  for (const [key, value] of Object.entries(spec.context ?? {})) {
    // A `{ value, maxTokens }` entry holds at most its bound (JSON escapes may double it) and the trim marker.
    const tokens = isBoundedContext(value) ? 2 * value.maxTokens + countTokens(trimMarker(999_999)) + 1 : sized(value, `context.${key}`);
    runData += tokens;
    if (sharedKeys.has(key)) sharedData += tokens;
  }
  if (templated(spec.prompt)) runData += sized(spec.prompt, 'prompt');
  const systemData = templated(spec.system) ? sized(spec.system, 'system') : 0;
  runData += systemData;
  const context = Object.fromEntries(Object.keys(spec.context ?? {}).map((key) => [key, '']));
  const prompt = buildPrompt({ instructions: templated(spec.prompt) ? '' : spec.prompt, context, summary: '' });
  const system = templated(spec.system) ? '' : spec.system;
  const stable = { ...(system ? { system } : {}), tools: [{ name: tool.name, description: tool.description, input_schema: tool.input_schema }] };
  const inputTokens =
    countRequestTokens({ ...stable, messages: [{ role: 'user', content: prompt }] }) + runData + ((spec.summary ?? workflow.summary ?? 'outputs') === 'none' ? 0 : SUMMARY_TOKENS);
  // The prefix `cacheLayout` may mark: the tool and system text, then the shared context that opens the message.
  const { shared } = splitShared(context, spec.shared);
  const prefix = countRequestTokens({ ...stable, messages: shared ? [{ role: 'user', content: shared }] : [] }) + systemData + sharedData;
  const caches = (spec.cache ?? workflow.cache ?? true) && prefix >= minimumCacheableTokens(spec.model ?? workflow.model ?? '');
  return {
    inputTokens,
    maxTokens: spec.maxTokens ?? workflow.maxTokens ?? DEFAULT_MAX_TOKENS,
    feedbackTokens: FEEDBACK_TOKENS,
    ...(caches ? { cacheWriteTokens: Math.min(prefix, inputTokens) } : {}),
    unbounded,
  };
}

/** The expressions of a model call, under `key`. */
export function modelExpressions(key: string, spec: ModelCallFields): Array<readonly [unknown, Array<string | number>]> {
  return [
    [spec.context, [key, 'context']],
    [spec.prompt, [key, 'prompt']],
    [spec.system, [key, 'system']],
  ];
}

/** `shared:` may only name keys of the step's `context`. */
export function sharedChecks(key: string, spec: ModelCallFields): { errors: KindFinding[]; warnings: KindFinding[] } {
  const keys = Object.keys(spec.context ?? {});
  const errors = (spec.shared ?? []).flatMap((name, index) =>
    keys.includes(name)
      ? []
      : [{ path: [key, 'shared', index], message: `shared names "${name}", which is not a key of context (${keys.length ? keys.join(', ') : 'no context'}): list the context entries that are the same for every call` }],
  );
  return { errors, warnings: [] };
}
