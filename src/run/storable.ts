/**
 * What may reach the machine and the store: plain JSON values within a size
 * cap. A tool or model can hand back anything (a BigInt, a function, a cycle, a
 * 200 MB string); checked here first, such a value fails its step as
 * `invalid_output` instead of crashing the commit that would store it.
 */

/** The default cap on one step's output (and input) as JSON: 4 MiB. */
export const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

export type StorableResult =
  | { readonly ok: true; readonly value: unknown; readonly bytes: number }
  | { readonly ok: false; readonly reason: string };

class NotStorable extends Error {}

const pathOf = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

/**
 * Checks that `value` is plain JSON data (after `toJSON`, as `JSON.stringify`
 * sees it) of at most `maxBytes` UTF-8 bytes, and returns the JSON copy the
 * stores would read back. Rejected, with the path of the first offender: a
 * BigInt, a function or symbol where a value belongs, a non-finite number, a
 * Map, Set or Promise (JSON would silently drop their contents), a cycle, and
 * anything past the cap (checked while walking, so a huge string is refused
 * before it is copied). `undefined` follows JSON: an omitted property, `null`
 * in an array.
 *
 * @example
 * ```ts
 * storable({ total: 10n }, 1024); // { ok: false, reason: '$.total is a BigInt, which JSON cannot hold' }
 * ```
 */
export function storable(value: unknown, maxBytes: number): StorableResult {
  let budget = maxBytes;
  const seen = new Set<object>();
  const spend = (n: number, path: string) => {
    budget -= n;
    if (budget < 0) throw new NotStorable(`it is larger than the limit of ${maxBytes} bytes as JSON (at ${path})`);
  };

  const walk = (input: unknown, path: string, key: string | number, inArray: boolean): unknown => {
    let v = input;
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: (key: string) => unknown }).toJSON(String(key));
    }
    switch (typeof v) {
      case 'string':
        // A UTF-8 byte is at least one UTF-16 unit; count the units first so a huge string is refused before it is encoded.
        spend(v.length + 2, path);
        spend(Buffer.byteLength(v) - v.length, path);
        return v;
      case 'number':
        if (!Number.isFinite(v)) throw new NotStorable(`${path} is ${String(v)}, which JSON cannot hold`);
        spend(String(v).length, path);
        return v;
      case 'boolean':
        spend(5, path);
        return v;
      case 'undefined':
        spend(4, path);
        return inArray ? null : undefined;
      case 'bigint':
        throw new NotStorable(`${path} is a BigInt, which JSON cannot hold`);
      case 'function':
        throw new NotStorable(`${path} is a function`);
      case 'symbol':
        throw new NotStorable(`${path} is a symbol`);
    }
    if (v === null) {
      spend(4, path);
      return null;
    }
    const object = v as object;
    if (object instanceof Map || object instanceof Set || object instanceof WeakMap || object instanceof WeakSet || object instanceof Promise) {
      throw new NotStorable(`${path} is a ${object.constructor.name}, which JSON would store as {}`);
    }
    if (seen.has(object)) throw new NotStorable(`${path} refers back to itself (a cycle)`);
    seen.add(object);
    spend(2, path);
    let copy: unknown;
    if (Array.isArray(object)) {
      copy = object.map((item, i) => {
        spend(1, path);
        return walk(item, pathOf(path, i), i, true);
      });
    } else {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(object)) {
        const next = walk(item, pathOf(path, k), k, false);
        if (next === undefined) continue;
        spend(k.length + 4, path);
        out[k] = next;
      }
      copy = out;
    }
    seen.delete(object);
    return copy;
  };

  try {
    const copy = walk(value, '$', '', false);
    return { ok: true, value: copy === undefined ? null : copy, bytes: maxBytes - budget };
  } catch (error) {
    if (error instanceof NotStorable) return { ok: false, reason: error.message };
    if (error instanceof RangeError) return { ok: false, reason: 'it is nested too deeply to store' };
    return { ok: false, reason: `it could not be read: ${error instanceof Error ? error.message : String(error)}` };
  }
}
