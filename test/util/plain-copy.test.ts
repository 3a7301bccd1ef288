import { describe, expect, it } from 'vitest';
import { plainCopy } from '../../src/util/plain-copy.js';

describe('plainCopy', () => {
  it('copies plain objects and arrays at every depth, keeps anything else as it is', () => {
    const at = new Date(0);
    const original = { order: { qty: 3, lines: [{ sku: 'A' }] }, at, n: 1, s: 'x', none: null };
    const copy = plainCopy(original) as typeof original;
    expect(copy).toEqual(original);
    expect(copy.order).not.toBe(original.order);
    expect(copy.order.lines[0]).not.toBe(original.order.lines[0]);
    expect(copy.at).toBe(at);
    copy.order.lines[0]!.sku = 'changed';
    expect(original.order.lines[0]!.sku).toBe('A');
  });

  it('keeps a "__proto__" key an own data property, not the prototype', () => {
    const original = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = plainCopy(original) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
    expect(JSON.stringify(copy)).toBe(JSON.stringify(original));
  });
});
