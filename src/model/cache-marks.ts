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

const marked = (block: unknown): boolean => isObject(block) && 'cache_control' in block;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** The fields of a request a prefix is made of (those charged as input). */
export interface PromptFields {
  readonly system?: unknown;
  readonly messages?: unknown;
  readonly tools?: unknown;
}

/**
 * The prefixes of a request that end at a `cache_control` breakpoint, in the
 * order the API caches them (tools, then system, then messages): each is a
 * cache entry, and the last is the most one request may write.
 *
 * @example
 * cachePrefixes({ tools, system: [{ type: 'text', text: policy, cache_control: { type: 'ephemeral' } }], messages });
 * // [{ tools, system: [{ type: 'text', text: policy, cache_control: … }] }]
 */
export function cachePrefixes(body: PromptFields): PromptFields[] {
  const prefixes: PromptFields[] = [];
  const tools = list(body.tools);
  tools.forEach((tool, i) => marked(tool) && prefixes.push({ tools: tools.slice(0, i + 1) }));
  const system = Array.isArray(body.system) ? body.system : [];
  system.forEach((block, i) => marked(block) && prefixes.push({ tools, system: system.slice(0, i + 1) }));
  const messages = list(body.messages);
  messages.forEach((message, m) => {
    const content = (message as { content?: unknown }).content;
    if (!Array.isArray(content)) return;
    content.forEach((block, i) => {
      if (marked(block)) prefixes.push({ tools, system: body.system, messages: [...messages.slice(0, m), { ...(message as object), content: content.slice(0, i + 1) }] });
    });
  });
  return prefixes;
}
