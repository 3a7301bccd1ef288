/**
 * What the benchmark counts as a workflow's tokens: every input token its
 * requests carried, cached or not, and every output token. `usage.input_tokens`
 * alone leaves out prompt-cache writes and reads, which the API bills (at
 * 1.25× and 0.1×): an arm that cached would look cheaper than it is.
 */

/** Input tokens of a reply's usage, cache writes and reads included. */
export function sentInputTokens(usage: { readonly input_tokens?: number | null; readonly cache_creation_input_tokens?: number | null; readonly cache_read_input_tokens?: number | null }): number {
  return (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
}

/** The same for a run's usage (`RunView.usage`): input of every kind plus output. */
export function sentTokens(usage: { readonly inputTokens: number; readonly outputTokens: number; readonly cacheCreationInputTokens?: number; readonly cacheReadInputTokens?: number }): number {
  return usage.inputTokens + (usage.cacheCreationInputTokens ?? 0) + (usage.cacheReadInputTokens ?? 0) + usage.outputTokens;
}
