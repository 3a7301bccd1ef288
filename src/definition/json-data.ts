/**
 * A definition is JSON data: it is stored with every run as JSON, and what a
 * resume runs is what the store gives back. YAML can write values JSON cannot
 * hold (`.nan`, `.inf`, `!!set`, `!!omap`, `!!binary`, `!!timestamp`), and a
 * TypeScript or object definition any JavaScript value; each is found here,
 * with its path, so the loader refuses it rather than run a tool with `NaN`
 * that a resume would run again with `null`.
 */
import type { PathSegment } from './locate.js';

/** A value that is not JSON, at its path in the definition. */
export interface NonJson {
  readonly path: PathSegment[];
  readonly message: string;
}

/** Found values past this many are not looked for: the first ones are what a person fixes. */
const MOST = 20;

const plainPrototypes = new Set<unknown>([Object.prototype, null]);

/** What a value that is not JSON is, in the words of the YAML that makes it. */
function describe(value: unknown): string | null {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? null : String(value);
    case 'string':
    case 'boolean':
    case 'undefined':
      return null;
    case 'bigint':
      return 'a BigInt';
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
  }
  if (value === null || Array.isArray(value) || plainPrototypes.has(Object.getPrototypeOf(value))) return null;
  if (value instanceof Set) return 'a set (!!set)';
  if (value instanceof Map) return 'an ordered map (!!omap)';
  if (value instanceof Date) return 'a date (!!timestamp)';
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return 'binary data (!!binary)';
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return `an object of class ${typeof name === 'string' && name !== '' ? name : '(unknown)'}`;
}

/**
 * The values of `data` that JSON cannot hold (a non-finite number, a BigInt, a
 * function, a Set, Map, Date, Buffer or other class instance, a cycle), in
 * the order they are written, the first {@link MOST} at most. `undefined` is
 * not one: JSON leaves the field out, as an absent one.
 *
 * @example
 * nonJsonValues({ steps: { pay: { with: { amount: NaN } } } }); // [{ path: ['steps', 'pay', 'with', 'amount'], message: 'NaN is not JSON, …' }]
 */
export function nonJsonValues(data: unknown): NonJson[] {
  const found: NonJson[] = [];
  const ancestors = new Set<object>();
  const path: PathSegment[] = [];
  const visit = (value: unknown): void => {
    if (found.length >= MOST) return;
    const what = describe(value);
    if (what !== null) {
      found.push({ path: [...path], message: `${what} is not JSON, and a definition holds JSON data only` });
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    if (ancestors.has(value)) {
      found.push({ path: [...path], message: 'this value contains itself (a cycle), which JSON cannot hold' });
      return;
    }
    ancestors.add(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        if (value[i] === undefined) found.push({ path: [...path], message: 'undefined in a list is not JSON (it would be stored as null)' });
        else visit(value[i]);
        path.pop();
      }
    } else {
      for (const key of Object.keys(value)) {
        path.push(key);
        visit((value as Record<string, unknown>)[key]);
        path.pop();
      }
    }
    ancestors.delete(value);
  };
  try {
    visit(data);
  } catch (error) {
    // Nested deeper than the stack: no store could write it either.
    if (!(error instanceof RangeError)) throw error;
    return [{ path: [], message: 'the definition is nested too deeply to be stored as JSON' }];
  }
  return found;
}
