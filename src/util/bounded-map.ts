/**
 * A map that holds at most `max` entries and forgets the oldest first. `set`
 * makes an entry the newest; `touch` (a cache hit) makes an entry the newest
 * without changing it; `replace` changes an entry where it stands. Callers
 * that touch on every hit get least-recently-used eviction; those that do not,
 * first in, first out. The one mechanism behind the engine's bounded caches.
 *
 * @example
 * ```ts
 * const cache = new BoundedMap<string, number>(2);
 * cache.set('a', 1); cache.set('b', 2);
 * cache.touch('a'); // 1, and 'a' is now the newest
 * cache.set('c', 3); // forgets 'b'
 * ```
 */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`a bounded map holds at least one entry (max ${max})`);
  }

  get size(): number {
    return this.#entries.size;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** The value, leaving its place in the order as it is. */
  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  /** The value, made the newest entry. */
  touch(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined || this.#entries.has(key)) {
      this.#entries.delete(key);
      this.#entries.set(key, value as V);
    }
    return value;
  }

  /** Sets `key` as the newest entry, forgetting the oldest when that makes more than `max`. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value as K);
  }

  /** Changes the value of a present `key` where it stands in the order; an absent key stays absent. */
  replace(key: K, value: V): void {
    if (this.#entries.has(key)) this.#entries.set(key, value);
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }
}
