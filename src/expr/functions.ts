/**
 * Replacements for the JSONata built-ins whose own implementation takes
 * quadratic time or memory in the size of their input, where no evaluation
 * step is counted, so the step budget cannot stop them: jsonata 2.x's
 * `$sort` merges by slicing an array per comparison (300,000 numbers exhaust
 * a 4 GB heap) and `$distinct` compares every value with every kept one.
 * These keep JSONata's results (a stable sort with the same comparator
 * meaning, the same equality and the same order) in O(n log n) and O(n).
 * A comparator is still JSONata, so its evaluation counts against the budget.
 */
import type jsonata from 'jsonata';

type Comparator = (a: unknown, b: unknown) => unknown;
interface Focus {
  readonly createSequence: () => unknown[];
}

/** JSONata's error for `$sort` without a comparator on values that are not all numbers or all strings. */
const notSortable = () => ({ code: 'D3070', index: 1, stack: new Error().stack });

/** `$sort(array, comparator?)`: a stable merge sort; the comparator returns true when `a` goes after `b`. */
async function sort(array: unknown, comparator?: Comparator): Promise<unknown> {
  if (array === undefined) return undefined;
  if (!Array.isArray(array) || array.length <= 1) return array;
  if (comparator === undefined) {
    const numbers = array.every((item) => typeof item === 'number' && !Number.isNaN(item));
    if (!numbers && !array.every((item) => typeof item === 'string')) throw notSortable();
    // Array.prototype.sort is stable, so equal values keep their order, as `a > b` swaps only on greater.
    return array.slice().sort((a: number | string, b: number | string) => (a > b ? 1 : a < b ? -1 : 0));
  }
  let from: unknown[] = array.slice();
  let to: unknown[] = new Array<unknown>(from.length);
  const n = from.length;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) to[k++] = (await comparator(from[i], from[j])) ? from[j++] : from[i++];
      while (i < mid) to[k++] = from[i++];
      while (j < hi) to[k++] = from[j++];
    }
    [from, to] = [to, from];
  }
  return from;
}

/** A key equal for two values exactly when JSONata's deep equality holds, or `null` for values holding functions. */
function keyOf(value: unknown): string | null {
  if (typeof value === 'function') return null;
  if (typeof value !== 'object' || value === null) return `${typeof value}:${String(value)}`;
  let hasFunction = false;
  const json = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'function' || item === undefined) hasFunction = true;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
    const sorted: Record<string, unknown> = {};
    for (const name of Object.getOwnPropertyNames(item).sort()) sorted[name] = (item as Record<string, unknown>)[name];
    return sorted;
  });
  return hasFunction ? null : `json:${json}`;
}

/** `$distinct(array)`: the first of each group of deep-equal values, in order. */
function distinct(this: Focus, array: unknown): unknown {
  if (array === undefined) return undefined;
  if (!Array.isArray(array) || array.length <= 1) return array;
  const results = (array as { sequence?: boolean }).sequence === true ? this.createSequence() : [];
  const seen = new Set<string>();
  const others: unknown[] = [];
  for (const value of array) {
    const key = keyOf(value);
    if (key === null) {
      // A function or a value holding one: equal only to itself, as in JSONata.
      if (others.includes(value)) continue;
      others.push(value);
    } else {
      if (seen.has(key)) continue;
      seen.add(key);
    }
    results.push(value);
  }
  return results;
}

/**
 * Binds the replacements into `evaluator`, under JSONata's names and signatures.
 *
 * @example
 * replaceQuadraticBuiltins(jsonata('$sort($input.items)'));
 */
export function replaceQuadraticBuiltins(evaluator: jsonata.Expression): void {
  evaluator.registerFunction('sort', sort as never, '<af?:a>');
  evaluator.registerFunction('distinct', distinct as never, '<x:x>');
}
