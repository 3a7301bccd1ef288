/**
 * The one token counter: the emulator reports `usage` with it, the budget guard
 * projects with it when `count_tokens` is not available, and the benchmark
 * counts both arms with it. Words count one token per 5 letters, numbers one per 3 digits,
 * punctuation one per 2 characters: about 1.3 tokens per English word and
 * one per 3 to 4 characters of JSON, close to Claude's tokenizer.
 */
import { withoutCacheMarks } from './cache-marks.js';

/** The pieces the counter reads: letter runs, digit runs, punctuation runs; whitespace is free. */
export const tokenPieces = /[A-Za-z]+|\d+|[^\sA-Za-z\d]+/g;

/** Characters per token of a piece: 3 for digits, 5 for letters, 2 for punctuation. */
export function charsPerToken(piece: string): number {
  const code = piece.charCodeAt(0);
  return code >= 48 && code <= 57 ? 3 : /[A-Za-z]/.test(piece[0] ?? '') ? 5 : 2;
}

export function countTokens(text: string): number {
  let tokens = 0;
  for (const match of text.matchAll(tokenPieces)) tokens += Math.ceil(match[0].length / charsPerToken(match[0]));
  return tokens;
}

/** Tokens of any JSON value, counted on its compact serialisation. */
export function countJsonTokens(value: unknown): number {
  return value === undefined ? 0 : countTokens(typeof value === 'string' ? value : JSON.stringify(value));
}

/** JSON with object keys sorted, so key order never changes a count. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The fields of a Messages API request that are charged as input. */
export interface ChargedFields {
  readonly system?: unknown;
  readonly messages?: unknown;
  readonly tools?: unknown;
}

/** The canonical serialisation of what is charged: system, messages, tools (prompt-cache marks are not content). */
export function canonicalPrompt(body: ChargedFields): string {
  const plain = withoutCacheMarks(body);
  return stableStringify({ system: plain.system ?? '', messages: plain.messages ?? [], tools: plain.tools ?? [] });
}

/**
 * Input tokens of a Messages API request. The emulator charges exactly this,
 * `count_tokens` returns it, and the budget guard projects with it.
 */
export function countRequestTokens(body: ChargedFields): number {
  return countTokens(canonicalPrompt(body));
}

/** Whether a model server's token count can be trusted: a whole number ≥ 0. */
export function isTokenCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
