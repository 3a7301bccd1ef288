/**
 * Prompt caching of step requests. A request puts its stable parts first —
 * the tool definition, the system text, then the step's shared context — and
 * marks the last of them with `cache_control: {type: 'ephemeral'}`, so the
 * calls of a step (its retries, its runs, the items of a fan-out) share one
 * byte-identical prefix that the API writes once and reads after. Item data
 * (the rest of the prompt) comes after the breakpoint.
 *
 * A prefix shorter than the model's minimum cacheable length is not marked:
 * the API would not cache it, and the request stays as it was.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { cachePrefixes } from './cache-marks.js';
import { countRequestTokens, type ChargedFields } from './tokens.js';

type Params = Anthropic.Messages.MessageCreateParamsNonStreaming;

const ephemeral = { type: 'ephemeral' } as const;

/**
 * The shortest prefix the API caches: 2048 tokens for Haiku models, 1024 for
 * Sonnet and Opus (and models this table does not know).
 *
 * @example
 * minimumCacheableTokens('claude-haiku-4-5'); // 2048
 */
export function minimumCacheableTokens(model: string): number {
  return /haiku/i.test(model) ? 2048 : 1024;
}

/**
 * Lays out a one-message request for caching: `shared` (stable text) opens
 * the user message before `prompt`; with `cache`, the last stable block whose
 * prefix reaches the minimum is marked (the shared text, else the system
 * text, else the tool). Without a mark the message is `shared + prompt` as one
 * string, which is also what a marked request counts as.
 *
 * @example
 * const params = cacheLayout(base, { shared: '<shared_context>…</shared_context>\n\n', prompt, cache: true });
 */
export function cacheLayout(params: Params, layout: { readonly shared?: string | undefined; readonly prompt: string; readonly cache: boolean }): Params {
  const { shared = '', prompt, cache } = layout;
  const plain: Params = { ...params, messages: [{ role: 'user', content: shared + prompt }] };
  if (!cache) return plain;
  const minimum = minimumCacheableTokens(params.model);
  const reaches = (prefix: ChargedFields) => countRequestTokens(prefix) >= minimum;
  const { tools, system } = params;
  if (shared) {
    if (!reaches({ tools, system, messages: [{ role: 'user', content: shared }] })) return plain;
    const content: Anthropic.Messages.TextBlockParam[] = [
      { type: 'text', text: shared, cache_control: ephemeral },
      { type: 'text', text: prompt },
    ];
    return { ...params, messages: [{ role: 'user', content }] };
  }
  if (typeof system === 'string' && system) {
    if (!reaches({ tools, system, messages: [] })) return plain;
    return { ...plain, system: [{ type: 'text', text: system, cache_control: ephemeral }] };
  }
  const last = tools?.[tools.length - 1];
  if (!tools || !last || system || !reaches({ tools, messages: [] })) return plain;
  return { ...plain, tools: [...tools.slice(0, -1), { ...last, cache_control: ephemeral } as Anthropic.Messages.ToolUnion] };
}

const marked = (block: unknown): boolean => typeof block === 'object' && block !== null && 'cache_control' in block;

/**
 * Whether a laid-out request carries a cache breakpoint (on its tools, its
 * system blocks or its first message): its stable prefix is written to the
 * cache, and any change before the breakpoint — the tool definition included —
 * makes the next call miss it.
 *
 * @example
 * marksPrefix(cacheLayout(base, { shared, prompt, cache: true })); // true when the prefix reaches the minimum
 */
export function marksPrefix(params: Params): boolean {
  const content = params.messages[0]?.content;
  return (
    (params.tools ?? []).some(marked) ||
    (Array.isArray(params.system) && params.system.some(marked)) ||
    (Array.isArray(content) && content.some(marked))
  );
}

/**
 * The most input tokens a request may write to the prompt cache, by the
 * shared counter: its prefix up to the last breakpoint (none without one). A
 * write is billed at `CACHE_WRITE_RATE`, so the budget projects this much of
 * the input at that rate (the entry may have expired, or never been written).
 *
 * @example
 * cacheWriteTokens(cacheLayout(base, { prompt, cache: true })); // the tool and system text's count, when marked
 */
export function cacheWriteTokens(params: ChargedFields): number {
  const prefixes = cachePrefixes(params);
  const last = prefixes[prefixes.length - 1];
  return last ? countRequestTokens(last) : 0;
}
