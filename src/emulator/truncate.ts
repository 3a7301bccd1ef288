/**
 * Cutting a reply down to `max_tokens`: text loses words from its end, a tool
 * call loses properties, and what can't fit is dropped.
 */
import { countJsonTokens } from '../model/tokens.js';
import type { ReplyBlock } from './reply.js';

function fits(content: ReplyBlock[], max: number): boolean {
  return countJsonTokens(content) <= max;
}

function cutText(content: ReplyBlock[], index: number, text: string, max: number): ReplyBlock[] | undefined {
  const words = text.split(' ');
  let lo = 0;
  let hi = words.length - 1;
  let best: ReplyBlock[] | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const candidate = [...content.slice(0, index), { type: 'text' as const, text: words.slice(0, mid + 1).join(' ') }];
    if (fits(candidate, max)) {
      best = candidate;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/**
 * The content cut to fit `maxTokens` (counted with countJsonTokens), and
 * whether anything was cut.
 * @example
 * truncateContent([{ type: 'text', text: 'a long answer' }], 3);
 */
export function truncateContent(content: readonly ReplyBlock[], maxTokens: number): { content: ReplyBlock[]; truncated: boolean } {
  let current = [...content];
  if (fits(current, maxTokens)) return { content: current, truncated: false };
  while (current.length) {
    const index = current.length - 1;
    const last = current[index] as ReplyBlock;
    if (last.type === 'tool_use') {
      const keys = Object.keys(last.input);
      if (keys.length) {
        const input = Object.fromEntries(Object.entries(last.input).slice(0, -1));
        current = [...current.slice(0, index), { ...last, input }];
        if (fits(current, maxTokens)) return { content: current, truncated: true };
        continue;
      }
    } else {
      const cut = cutText(current, index, last.text, maxTokens);
      if (cut) return { content: cut, truncated: true };
    }
    current = current.slice(0, index);
    if (fits(current, maxTokens) && current.length) return { content: current, truncated: true };
  }
  return { content: [], truncated: true };
}
