/**
 * What a request means without its prompt-cache marks. A `cache_control`
 * breakpoint is a billing instruction, not content: a request split into text
 * blocks to carry one counts, hashes and reads exactly as the unsplit request.
 */

interface Loose {
  readonly [key: string]: unknown;
}

const isObject = (value: unknown): value is Loose => typeof value === 'object' && value !== null && !Array.isArray(value);

function unmark(block: unknown): unknown {
  if (!isObject(block) || !('cache_control' in block)) return block;
  const { cache_control: _mark, ...rest } = block;
  return rest;
}

/** A block list that carried a mark and holds only text becomes the string it was split from. */
function unmarkBlocks(content: unknown): unknown {
  if (!Array.isArray(content)) return content;
  const marked = content.some((b) => isObject(b) && 'cache_control' in b);
  if (!marked) return content;
  const plain = content.map(unmark);
  const texts = plain.every((b) => isObject(b) && b['type'] === 'text' && typeof b['text'] === 'string' && Object.keys(b).length === 2);
  return texts ? plain.map((b) => (b as { text: string }).text).join('') : plain;
}

/**
 * The request body without `cache_control` marks (on tools, system blocks and
 * message blocks); text blocks split only to carry a mark are joined back.
 *
 * @example
 * withoutCacheMarks({ system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }] });
 * // { system: 'Be brief.' }
 */
export function withoutCacheMarks<T>(body: T): T {
  if (!isObject(body)) return body;
  const out: Record<string, unknown> = { ...body };
  if (Array.isArray(body['tools'])) out['tools'] = body['tools'].map(unmark);
  if ('system' in body) out['system'] = unmarkBlocks(body['system']);
  if (Array.isArray(body['messages'])) {
    out['messages'] = body['messages'].map((m) => (isObject(m) && Array.isArray(m['content']) ? { ...m, content: unmarkBlocks(m['content']) } : m));
  }
  return out as T;
}
