/**
 * The one token counter: the emulator reports `usage` with it, the budget guard
 * projects with it when `count_tokens` is not available, and the benchmark
 * counts both arms with it. Words count one token per 5 letters, numbers one per 3 digits,
 * punctuation one per 2 characters: about 1.3 tokens per English word and
 * one per 3 to 4 characters of JSON, close to Claude's tokenizer.
 */
const pieces = /[A-Za-z]+|\d+|[^\sA-Za-z\d]+/g;

export function countTokens(text: string): number {
  let tokens = 0;
  for (const match of text.matchAll(pieces)) {
    const piece = match[0];
    const code = piece.charCodeAt(0);
    const per = code >= 48 && code <= 57 ? 3 : /[A-Za-z]/.test(piece[0] ?? '') ? 5 : 2;
    tokens += Math.ceil(piece.length / per);
  }
  return tokens;
}

/** Tokens of any JSON value, counted on its compact serialisation. */
export function countJsonTokens(value: unknown): number {
  return value === undefined ? 0 : countTokens(typeof value === 'string' ? value : JSON.stringify(value));
}

/** The parts of a Messages API request that count as input. */
export interface CountableRequest {
  readonly system?: unknown;
  readonly messages: readonly unknown[];
  readonly tools?: readonly unknown[] | undefined;
}

/**
 * Input tokens of a Messages API request: system, messages and tools, counted
 * on their JSON. The emulator charges exactly this, and `count_tokens` returns it.
 */
export function countRequestTokens(request: CountableRequest): number {
  return countJsonTokens(request.system ?? '') + countJsonTokens(request.messages) + countJsonTokens(request.tools ?? []);
}
