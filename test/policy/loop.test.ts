import { describe, expect, it } from 'vitest';
import { countRepeats, loopFingerprint, normalizeForLoop } from '../../src/policy/loop.js';

const same = (a: unknown, b: unknown, tolerance?: number) => {
  const options = tolerance === undefined ? {} : { tolerance };
  return loopFingerprint(a, options) === loopFingerprint(b, options);
};

describe('normalizeForLoop', () => {
  it('sorts object keys', () => {
    expect(JSON.stringify(normalizeForLoop({ b: 1, a: 1, c: 1 }))).toBe('{"a":1,"b":1,"c":1}');
    expect(same({ vendor: 'x', total: 1 }, { total: 1, vendor: 'x' })).toBe(true);
    expect(same({ '10': 'a', '9': 'b' }, { '9': 'b', '10': 'a' })).toBe(true);
  });

  it('trims and collapses whitespace', () => {
    expect(normalizeForLoop('  find \n\t invoice   42 ')).toBe('find invoice 42');
    expect(same({ q: 'find invoice 42' }, { q: ' find  invoice\n42' })).toBe(true);
    expect(same({ q: 'find invoice 42' }, { q: 'find invoice42' })).toBe(false);
  });

  it('lowercases (after Unicode NFKC)', () => {
    expect(normalizeForLoop('ACME Corp')).toBe('acme corp');
    expect(normalizeForLoop('ＡＣＭＥ')).toBe('acme');
    expect(same({ vendor: 'ACME' }, { vendor: 'acme' })).toBe(true);
  });

  it('catches numeric noise below the tolerance', () => {
    expect(same({ total: 1234.5 }, { total: 1234.5000001 })).toBe(true);
    expect(same({ total: 0.1 + 0.2 }, { total: 0.3 })).toBe(true);
    expect(same(100, 100.0004)).toBe(true);
    expect(same(-250, -250.01)).toBe(true);
    expect(same(2e9, 2e9 + 1)).toBe(true);
  });

  it('keeps numbers apart above the tolerance', () => {
    expect(same(100, 102)).toBe(false);
    expect(same(100, 101.5)).toBe(false);
    expect(same(1, 2)).toBe(false);
    expect(same(0.001, 0.0011)).toBe(false);
    expect(same(100, 100.5, 0.001)).toBe(false);
    expect(same(100, 100.5, 0.5)).toBe(true);
  });

  it('never merges numbers further apart than the tolerance, over a sweep', () => {
    for (let x = 0.5; x < 2000; x *= 1.0037) {
      expect(normalizeForLoop(x) === normalizeForLoop(x * 1.0101)).toBe(false);
    }
  });

  it('handles zero and negatives', () => {
    expect(normalizeForLoop(0)).toBe(0);
    expect(Object.is(normalizeForLoop(-0), 0)).toBe(true);
    expect(normalizeForLoop(1e-13)).toBe(0);
    expect(normalizeForLoop(-1e-13)).toBe(0);
    expect(same(0, 1e-6)).toBe(false);
    expect(same(5, -5)).toBe(false);
    expect(normalizeForLoop(-42)).toBe(-(normalizeForLoop(42) as number));
    expect(normalizeForLoop(Number.NaN)).toBeNull();
    expect(normalizeForLoop(Number.POSITIVE_INFINITY)).toBeNull();
  });

  it('keeps numbers exact with tolerance 0', () => {
    expect(normalizeForLoop(1234.5678, { tolerance: 0 })).toBe(1234.5678);
    expect(same(1, 1.0000001, 0)).toBe(false);
  });

  it('keeps array order and normalises nested structures', () => {
    expect(same([1, 2], [2, 1])).toBe(false);
    const a = { lines: [{ sku: ' AB-1 ', qty: 2, price: 9.99 }, { sku: 'c', qty: 1 }], meta: { source: 'OCR', pages: [1, 2] } };
    const b = { meta: { pages: [1, 2], source: 'ocr' }, lines: [{ price: 9.990001, qty: 2, sku: 'ab-1' }, { qty: 1, sku: 'C ' }] };
    expect(same(a, b)).toBe(true);
    expect(same(a, { ...b, lines: [...b.lines].reverse() })).toBe(false);
    expect(normalizeForLoop({ z: [{ y: ' Y ', x: undefined }], a: true, n: null })).toEqual({ a: true, n: null, z: [{ y: 'y' }] });
  });

  it('drops undefined members and keeps "__proto__" keys as data', () => {
    expect(same({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    const withProto = normalizeForLoop(JSON.parse('{"__proto__": {"x": 1}}')) as object;
    expect(Object.getPrototypeOf(withProto)).toBe(Object.prototype);
    expect(same(JSON.parse('{"__proto__": {"x": 1}}'), {})).toBe(false);
  });
});

describe('loopFingerprint and countRepeats', () => {
  it('gives a short stable string', () => {
    const fingerprint = loopFingerprint({ q: 'x', n: 1 });
    expect(fingerprint).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(loopFingerprint({ n: 1, q: ' X ' })).toBe(fingerprint);
    expect(loopFingerprint('{"n":1,"q":"x"}')).not.toBe(fingerprint);
  });

  it('counts occurrences', () => {
    const a = loopFingerprint({ q: 'a' });
    const b = loopFingerprint({ q: 'b' });
    expect(countRepeats([], a)).toBe(0);
    expect(countRepeats([a, b, loopFingerprint({ q: ' A ' })], a)).toBe(2);
  });
});
