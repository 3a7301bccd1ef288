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
import { cachePrefixes } from '../model/cache-marks.js';
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

/** The prefixes of `body` that end at a breakpoint, in order, each with its key and its tokens by `count`. */
function breakpoints(model: string, body: ChargedFields, count: (prefix: ChargedFields) => number): Breakpoint[] {
  return cachePrefixes(body).map((prefix) => ({ key: createHash('sha256').update(`${model}\n${canonicalPrompt(prefix)}`).digest('hex'), tokens: count(prefix) }));
}

/** The cache of one emulator: entries by prefix hash, each with the time it expires. */
export class PromptCache {
  private readonly expires = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly ttlMs = CACHE_TTL_MS,
    /** Tokens of a prefix: the emulated tokenizer's count (the one `usage` and `count_tokens` report). */
    private readonly count: (prefix: ChargedFields) => number = countRequestTokens,
  ) {}

  /** Reads and writes the cache for one request whose whole input counts `total` tokens. */
  use(model: string, body: ChargedFields, total: number): CacheUsage {
    const minimum = minimumCacheableTokens(model);
    const points = breakpoints(model, body, this.count).filter((p) => p.tokens >= minimum);
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
