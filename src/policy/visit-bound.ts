/**
 * The worst case of one step visit, shared by `validate`'s bound
 * (./worst-case.ts), a `map` step's bound of its body and the path tests. It
 * imports only the price rates, so step kinds can use it without importing the registry.
 */
import { writeSurcharge } from './pricing.js';

/**
 * Tokens one step visit may use at worst: every attempt sends its prompt (a
 * retry adds its feedback) and may write its cached prefix of
 * `cacheWriteTokens` (billed at 1.25×: the entry may have expired between
 * attempts); the first receives `maxTokens`, each later one twice that (the
 * doubling after a `max_tokens` stop).
 */
export function visitWorstCase(inputTokens: number, maxTokens: number, attempts: number, feedbackTokens = 0, cacheWriteTokens = 0): number {
  return attempts * (inputTokens + writeSurcharge(cacheWriteTokens)) + (attempts - 1) * feedbackTokens + maxTokens + (attempts - 1) * 2 * maxTokens;
}
