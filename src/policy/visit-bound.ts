/**
 * The worst case of one step visit, shared by `validate`'s bound
 * (./worst-case.ts), a `map` step's bound of its body and the path tests. It
 * imports nothing, so step kinds can use it without importing the registry.
 */

/**
 * Tokens one step visit may use at worst: every attempt sends its prompt (a
 * retry adds its feedback); the first receives `maxTokens`, each later one
 * twice that (the doubling after a `max_tokens` stop).
 */
export function visitWorstCase(inputTokens: number, maxTokens: number, attempts: number, feedbackTokens = 0): number {
  return attempts * inputTokens + (attempts - 1) * feedbackTokens + maxTokens + (attempts - 1) * 2 * maxTokens;
}
