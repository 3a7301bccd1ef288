/**
 * Reserved names. `__proto__` is never a usable key: JavaScript objects drop
 * it or treat it as the prototype, so a definition that names it anywhere (a
 * step id, a `wait.on` event, a `context` or mapping key) is rejected rather
 * than silently losing it. Step ids are also looked up in plain records
 * (`visits`, `steps`), so they may not be any other name `Object.prototype`
 * carries either (`constructor`, `toString`, …).
 */
import type { PathSegment } from './locate.js';

/** The key no object in a definition may have. */
export const RESERVED_KEY = '__proto__';

/** Names a step id may not take: every member of `Object.prototype`. */
export const reservedStepIds: ReadonlySet<string> = new Set([
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'constructor',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'toString',
  'valueOf',
]);

/** The message for a step id in {@link reservedStepIds}. */
export const reservedStepIdMessage = (id: string) =>
  `${JSON.stringify(id)} is a reserved name (a member of every JavaScript object) and cannot be a step id; rename the step`;

/** A reserved key found in definition data. */
export interface ReservedKey {
  readonly path: readonly PathSegment[];
  readonly message: string;
}

const isContainer = (value: unknown): value is Record<string, unknown> | unknown[] => typeof value === 'object' && value !== null;

/**
 * Every `__proto__` key in `data`, at any depth, with its path. Walks
 * iteratively (no recursion), so deep data cannot overflow the stack.
 *
 * @example
 * reservedKeys(JSON.parse('{"steps":{"__proto__":{"final":true}}}'));
 * // [{ path: ['steps', '__proto__'], message: '"__proto__" is a reserved name …' }]
 */
export function reservedKeys(data: unknown): ReservedKey[] {
  const found: ReservedKey[] = [];
  const seen = new Set<object>();
  const stack: Array<{ value: unknown; path: readonly PathSegment[] }> = [{ value: data, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    if (!isContainer(value) || seen.has(value)) continue;
    seen.add(value);
    const entries: Array<[PathSegment, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.keys(value).map((k) => [k, value[k]]);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      if (key === RESERVED_KEY) {
        found.push({
          path: [...path, key],
          message: `"${RESERVED_KEY}" is a reserved name and cannot be used as a key (JavaScript would drop it); rename it`,
        });
        continue;
      }
      stack.push({ value: child, path: [...path, key] });
    }
  }
  return found;
}
