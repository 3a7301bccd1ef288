/**
 * A copy of a value's plain structure: plain objects and arrays copied member by member, anything else (a
 * primitive, a Date or class instance a schema's transform made) the same value. What the copy's holder changes
 * in place then reaches no object or array of the original.
 */

/**
 * @example
 * const input = { order: { qty: 3 }, at: new Date() };
 * const copy = plainCopy(input) as typeof input;
 * copy.order.qty = 999; // input.order.qty is still 3; copy.at === input.at
 */
export function plainCopy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const items: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) items[i] = plainCopy(value[i]);
    return items;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const fields = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    // A `"__proto__"` key stays an own data property, as in the original.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: plainCopy(fields[key]), enumerable: true, writable: true, configurable: true });
    else copy[key] = plainCopy(fields[key]);
  }
  return copy;
}
