/**
 * Prices of Claude models in USD per million tokens, matched by the longest
 * prefix of the model id (so dated ids such as `claude-sonnet-4-5-20250929`
 * match their family). Unknown models are priced as Sonnet.
 * Sources: anthropic.com/pricing; update when Anthropic changes prices.
 */
import { roundUsd } from '../util/usd.js';

/** Prices of one model family. */
export interface ModelPrice {
  /** Model id prefix, e.g. `claude-opus-4-5`. */
  readonly prefix: string;
  /** USD per million input tokens. */
  readonly input: number;
  /** USD per million output tokens. */
  readonly output: number;
}

/** The price table; order does not matter, {@link priceOf} takes the longest matching prefix. */
export const priceTable: readonly ModelPrice[] = [
  { prefix: 'claude-opus-4', input: 15, output: 75 }, // Opus 4 and 4.1
  { prefix: 'claude-opus-4-5', input: 5, output: 25 },
  { prefix: 'claude-opus-4-6', input: 5, output: 25 },
  { prefix: 'claude-sonnet-4', input: 3, output: 15 }, // Sonnet 4 and 4.5
  { prefix: 'claude-haiku-4', input: 1, output: 5 }, // Haiku 4.5
  { prefix: 'claude-3-opus', input: 15, output: 75 },
  { prefix: 'claude-3-7-sonnet', input: 3, output: 15 },
  { prefix: 'claude-3-5-sonnet', input: 3, output: 15 },
  { prefix: 'claude-3-5-haiku', input: 0.8, output: 4 },
  { prefix: 'claude-3-haiku', input: 0.25, output: 1.25 },
];

/** The price used for a model missing from the table (Sonnet's). */
export const fallbackPrice: ModelPrice = { prefix: '', input: 3, output: 15 };

/**
 * The price entry of `model`: the longest matching prefix, else {@link fallbackPrice}.
 *
 * @example
 * priceOf('claude-opus-4-1-20250805'); // { prefix: 'claude-opus-4', input: 15, output: 75 }
 */
export function priceOf(model: string): ModelPrice {
  let best: ModelPrice | undefined;
  for (const entry of priceTable) {
    if (model.startsWith(entry.prefix) && (!best || entry.prefix.length > best.prefix.length)) best = entry;
  }
  return best ?? fallbackPrice;
}

/** A prompt-cache write (5-minute cache) is priced at 1.25× the input price. */
export const CACHE_WRITE_RATE = 1.25;
/** A prompt-cache read is priced at 0.1× the input price. */
export const CACHE_READ_RATE = 0.1;

/** Prompt-cache tokens of one reply: written (`cache_creation_input_tokens`) and read (`cache_read_input_tokens`). */
export interface CacheTokens {
  readonly creation: number;
  readonly read: number;
}

/**
 * Budget tokens of a reply's cache writes and reads, weighted as they are
 * priced (1.25 and 0.1 input tokens each), each rounded up: what the token
 * budget charges for them.
 *
 * @example
 * cacheWeightedTokens({ creation: 2000, read: 0 }); // 2500
 * cacheWeightedTokens({ creation: 0, read: 2001 }); // 201
 */
export function cacheWeightedTokens(cache: CacheTokens): number {
  return Math.ceil(cache.creation * CACHE_WRITE_RATE) + Math.ceil(cache.read * CACHE_READ_RATE);
}

/**
 * Budget tokens a cache write of `tokens` input tokens adds to their count as
 * plain input: what {@link cacheWeightedTokens} charges them, less themselves.
 *
 * @example
 * writeSurcharge(2000); // 500
 */
export function writeSurcharge(tokens: number): number {
  return cacheWeightedTokens({ creation: tokens, read: 0 }) - tokens;
}

/**
 * The most a request may bill, in budget tokens and dollars: `inputTokens` of
 * input of which `written` (at most all of it) may be written to the prompt
 * cache, at the write rate, and all of `maxTokens` as output.
 *
 * @example
 * requestCost('claude-haiku-4-5', 3000, 2000, 200); // { tokens: 3700, usd: 0.0045 }
 */
export function requestCost(model: string, inputTokens: number, written: number, maxTokens: number): { readonly tokens: number; readonly usd: number } {
  const creation = Math.min(written, inputTokens);
  const cache = { creation, read: 0 };
  return { tokens: inputTokens - creation + maxTokens + cacheWeightedTokens(cache), usd: costUsd(model, inputTokens - creation, maxTokens, cache) };
}

/**
 * Dollars for a call to `model` with the given token counts; `cache` holds the
 * input tokens written to and read from the prompt cache, beside `inputTokens`.
 *
 * @example
 * costUsd('claude-haiku-4-5', 1_000_000, 100_000); // 1.5
 * costUsd('claude-haiku-4-5', 0, 0, { creation: 1_000_000, read: 1_000_000 }); // 1.35
 */
export function costUsd(model: string, inputTokens: number, outputTokens: number, cache: CacheTokens = { creation: 0, read: 0 }): number {
  const price = priceOf(model);
  const input = inputTokens + cache.creation * CACHE_WRITE_RATE + cache.read * CACHE_READ_RATE;
  return roundUsd((input * price.input + outputTokens * price.output) / 1_000_000);
}
