/**
 * The simulated model's prose: a short, deterministic summary of a text.
 */
import type { Random } from '../util/random.js';
import { pick } from './plausible.js';

function clip(sentence: string, words: number): string {
  const parts = sentence.split(/\s+/).filter((w) => w !== '');
  return parts.length > words ? `${parts.slice(0, words).join(' ')} …` : parts.join(' ');
}

function keyTerms(text: string): string[] {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().match(/[a-z][a-z-]{4,}/g) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([w]) => w);
}

/**
 * A few sentences summarising `text`: its opening, its size, its key terms.
 * @example
 * summarise('The invoice from Acme is due. Total 12,500.', seededRandom(1));
 */
export function summarise(text: string, random: Random): string {
  const sentences = text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const words = text.split(/\s+/).filter((w) => w !== '').length;
  if (sentences.length === 0) return 'There is nothing to summarise yet.';
  const opening = `${pick(['Summary:', 'In short:', 'Overview:'], random)} ${clip(sentences[0] ?? '', 24)}`;
  const size = `The text has ${sentences.length} ${sentences.length === 1 ? 'sentence' : 'sentences'} and ${words} words.`;
  const terms = keyTerms(text);
  const key = terms.length ? ` Key terms: ${terms.join(', ')}.` : '';
  return `${opening.replace(/[^.!?…]$/, '$&.')} ${size}${key}`;
}
