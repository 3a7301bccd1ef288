/** "Did you mean …?" suggestions for misspelt keys, step ids and tool names. */
import { distance } from 'fastest-levenshtein';

/**
 * The candidate closest to `word`, if it is close enough to be a likely typo:
 * one edit for words of up to three letters, else two edits or a third of the
 * word's length, whichever is more. Case differences count as half an edit.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const score = Math.min(distance(word, candidate), distance(word.toLowerCase(), candidate.toLowerCase()) + 0.5);
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  const allowed = word.length <= 3 ? 1 : Math.max(2, Math.floor(word.length / 3));
  return bestScore <= allowed ? best : undefined;
}

/** `; did you mean "next"?` when a close candidate exists, else `''`. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closestMatch(word, candidates);
  return match === undefined ? '' : `; did you mean "${match}"?`;
}
