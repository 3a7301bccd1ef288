/**
 * The emulator's prompt cache, as the Messages API reports it: the prefix of
 * a request up to each `cache_control` breakpoint (tools, then system, then
 * messages, in that order) is a cache entry of its model. The longest live
 * entry is read; what follows it up to the last breakpoint is written. An
 * entry lives 5 minutes on the emulator's clock after its last use; a prefix
 * shorter than the model's minimum cacheable length is never cached.
 */
import { createHash } from 'node:crypto';
import { minimumCacheableTokens } from '../model/cache.js';
import { canonicalPrompt, countRequestTokens, type ChargedFields } from '../model/tokens.js';

/** How long an entry lives after its last write or read: the API's default 5-minute cache. */
export const CACHE_TTL_MS = 5 * 60_000;

/** Cache tokens of one request, as `usage` reports them. */
export interface CacheUsage {
  readonly creation: number;
  readonly read: number;
}

interface Breakpoint {
  readonly key: string;
  readonly tokens: number;
}

const marked = (block: unknown): boolean => typeof block === 'object' && block !== null && 'cache_control' in block;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** The prefixes of `body` that end at a breakpoint, in order. */
function breakpoints(model: string, body: ChargedFields): Breakpoint[] {
  const points: Breakpoint[] = [];
  const add = (prefix: ChargedFields) =>
    points.push({ key: createHash('sha256').update(`${model}\n${canonicalPrompt(prefix)}`).digest('hex'), tokens: countRequestTokens(prefix) });
  const tools = list(body.tools);
  tools.forEach((tool, i) => marked(tool) && add({ tools: tools.slice(0, i + 1) }));
  const system = Array.isArray(body.system) ? body.system : [];
  system.forEach((block, i) => marked(block) && add({ tools, system: system.slice(0, i + 1) }));
  const messages = list(body.messages);
  messages.forEach((message, m) => {
    const content = (message as { content?: unknown }).content;
    if (!Array.isArray(content)) return;
    content.forEach((block, i) => {
      if (marked(block)) add({ tools, system: body.system, messages: [...messages.slice(0, m), { ...(message as object), content: content.slice(0, i + 1) }] });
    });
  });
  return points;
}

/** The cache of one emulator: entries by prefix hash, each with the time it expires. */
export class PromptCache {
  private readonly expires = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly ttlMs = CACHE_TTL_MS,
  ) {}

  /** Reads and writes the cache for one request whose whole input counts `total` tokens. */
  use(model: string, body: ChargedFields, total: number): CacheUsage {
    const minimum = minimumCacheableTokens(model);
    const points = breakpoints(model, body).filter((p) => p.tokens >= minimum);
    const last = points[points.length - 1];
    if (!last) return { creation: 0, read: 0 };
    const now = this.now();
    const until = now + this.ttlMs;
    let hit = -1;
    for (let i = points.length - 1; i >= 0 && hit < 0; i--) if ((this.expires.get(points[i]!.key) ?? -Infinity) > now) hit = i;
    const read = hit >= 0 ? points[hit]!.tokens : 0;
    if (hit >= 0) this.expires.set(points[hit]!.key, until);
    for (const point of points.slice(hit + 1)) this.expires.set(point.key, until);
    const creation = hit === points.length - 1 ? 0 : Math.max(0, last.tokens - read);
    // A prefix never counts more than the request: clamp what the per-prefix counts may overshoot.
    const clampedRead = Math.min(read, total);
    return { read: clampedRead, creation: Math.min(creation, total - clampedRead) };
  }
}
