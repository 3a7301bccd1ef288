/**
 * A `context:` value as the prompt shows it, and cut to a token bound with
 * the one token counter (src/model/tokens.ts), so a large step output can be
 * passed on without its size deciding the prompt's.
 */
import { charsPerToken, countTokens, tokenPieces } from './tokens.js';

/** How the prompt writes a context value: a string as is, anything else as indented JSON. */
export function renderContextValue(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value, null, 1) ?? 'null');
}

/** The marker that ends a cut value. */
export const trimMarker = (tokens: number): string => `…[trimmed ${tokens} tokens]`;

/**
 * `text` if it counts at most `maxTokens` tokens, else its longest prefix
 * that does, followed by {@link trimMarker} with the tokens left out. A piece
 * (word, number, punctuation run) that straddles the bound is cut inside.
 *
 * @example
 * trimToTokens('alpha beta gamma delta', 2); // 'alpha beta…[trimmed 2 tokens]'
 */
export function trimToTokens(text: string, maxTokens: number): string {
  const total = countTokens(text);
  if (total <= maxTokens) return text;
  let used = 0;
  let end = 0;
  for (const match of text.matchAll(tokenPieces)) {
    const piece = match[0];
    const per = charsPerToken(piece);
    const tokens = Math.ceil(piece.length / per);
    if (used + tokens > maxTokens) {
      const fits = maxTokens - used;
      end = match.index + fits * per;
      used += fits;
      break;
    }
    used += tokens;
    end = match.index + piece.length;
  }
  const kept = text.slice(0, end);
  return `${kept}${trimMarker(total - countTokens(kept))}`;
}
