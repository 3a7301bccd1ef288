/** The differences between two JSON values, as the leaves that changed: `[{ path: 'lines[0].amount', from: 12, to: 15 }]`. */

export interface Change {
  /** Where the values differ, as people write it (`vendor`, `lines[0].amount`); `''` for the whole value. */
  readonly path: string;
  /** The value before (absent when the field was added). */
  readonly from?: unknown;
  /** The value after (absent when the field was removed). */
  readonly to?: unknown;
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;
}

/**
 * The changes that turn `from` into `to`, walking objects key by key and
 * arrays index by index; any other difference is one change of the value.
 *
 * @example
 * jsonDiff({ vendor: 'ACME', amount: 12 }, { vendor: 'ACME', amount: 15 }); // [{ path: 'amount', from: 12, to: 15 }]
 */
export function jsonDiff(from: unknown, to: unknown, path = ''): Change[] {
  if (isRecord(from) && isRecord(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])];
    return keys.flatMap((key) => {
      const inFrom = Object.hasOwn(from, key);
      const inTo = Object.hasOwn(to, key);
      if (!inTo) return [{ path: join(path, key), from: from[key] }];
      if (!inFrom) return [{ path: join(path, key), to: to[key] }];
      return jsonDiff(from[key], to[key], join(path, key));
    });
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const changes: Change[] = [];
    for (let i = 0; i < Math.max(from.length, to.length); i++) {
      if (i >= to.length) changes.push({ path: join(path, i), from: from[i] });
      else if (i >= from.length) changes.push({ path: join(path, i), to: to[i] });
      else changes.push(...jsonDiff(from[i], to[i], join(path, i)));
    }
    return changes;
  }
  return Object.is(from, to) ? [] : [{ path, from, to }];
}
