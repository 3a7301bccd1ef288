import { describe, expect, it } from 'vitest';
import { storable } from '../../src/run/storable.js';

const ok = (value: unknown, max = 1 << 20) => {
  const result = storable(value, max);
  if (!result.ok) throw new Error(result.reason);
  return result.value;
};
const reason = (value: unknown, max = 1 << 20) => {
  const result = storable(value, max);
  if (result.ok) throw new Error('expected a refusal');
  return result.reason;
};

describe('storable', () => {
  it('returns the JSON copy: toJSON applied, undefined fields left out, undefined in arrays as null', () => {
    const at = new Date(Date.UTC(2026, 0, 2));
    const custom = { toJSON: (key: string) => `key:${key}` };
    expect(ok({ at, note: undefined, list: [1, undefined, at], custom, nested: { a: [custom] } })).toEqual({
      at: at.toISOString(),
      list: [1, null, at.toISOString()],
      custom: 'key:custom',
      nested: { a: ['key:0'] },
    });
    expect(ok(undefined)).toBeNull();
    expect(ok(at)).toBe(at.toISOString());
  });

  it('copies: later changes to what was checked do not reach the copy', () => {
    const value = { rows: [{ a: 1 }], tag: 'x' };
    const copy = ok(value) as typeof value;
    expect(copy).toEqual(value);
    value.rows[0]!.a = 2;
    value.rows.push({ a: 3 });
    expect(copy).toEqual({ rows: [{ a: 1 }], tag: 'x' });
  });

  it('keeps only own enumerable properties, as JSON does', () => {
    const proto = { inherited: 1 };
    const value = Object.create(proto) as Record<string, unknown>;
    value['own'] = 2;
    Object.defineProperty(value, 'hidden', { value: 3, enumerable: false });
    expect(ok(value)).toEqual({ own: 2 });
    expect(JSON.stringify(ok(value))).toBe(JSON.stringify(value));
  });

  it('names the path of the first offender', () => {
    expect(reason({ a: { b: [1, 10n] } })).toBe('$.a.b[1] is a BigInt, which JSON cannot hold');
    expect(reason({ 'odd key': () => 1 })).toBe('$["odd key"] is a function');
    expect(reason({ s: Symbol('x') })).toBe('$.s is a symbol');
    expect(reason({ n: [Number.NaN] })).toBe('$.n[0] is NaN, which JSON cannot hold');
    expect(reason({ m: new Map() })).toBe('$.m is a Map, which JSON would store as {}');
    expect(reason({ p: [new Set([1])] })).toBe('$.p[0] is a Set, which JSON would store as {}');
    const node: Record<string, unknown> = { id: 1 };
    node['self'] = { back: node };
    expect(reason({ node })).toBe('$.node.self.back refers back to itself (a cycle)');
  });

  it('lets the same object appear twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(ok({ a: shared, b: [shared, shared] })).toEqual({ a: { x: 1 }, b: [{ x: 1 }, { x: 1 }] });
  });

  it('counts UTF-8 bytes against the cap, multi-byte characters included', () => {
    const ascii = 'a'.repeat(90);
    expect(storable(ascii, 92).ok).toBe(true);
    expect(reason(ascii, 91)).toMatch(/larger than the limit of 91 bytes as JSON/);
    // 30 three-byte characters: 90 bytes as UTF-8 though only 30 UTF-16 units.
    const wide = '€'.repeat(30);
    expect(storable(wide, 92).ok).toBe(true);
    expect(reason(wide, 91)).toMatch(/larger than the limit of 91 bytes as JSON/);
    expect(reason({ list: [wide, wide] }, 150)).toMatch(/larger than the limit of 150 bytes as JSON \(at \$\.list\[1\]\)/);
  });

  it('refuses a huge string before encoding it, by its length alone', () => {
    expect(reason({ pdf: 'x'.repeat(5000) }, 2048)).toBe('it is larger than the limit of 2048 bytes as JSON (at $.pdf)');
  });

  it('decides values near the cap by their JSON bytes (counted, not guessed), long numbers and wide strings included', () => {
    // The count allows a separator per member, a few bytes over the text's exact size.
    const numbers = [-1.7976931348623157e308, 0.1234567890123456, 5e-324];
    const size = Buffer.byteLength(JSON.stringify(numbers));
    expect(ok(numbers, size + 1)).toEqual(numbers);
    expect(reason(numbers, size - 1)).toMatch(/larger than the limit/);
    const mixed = { wide: '€'.repeat(10), n: 1e21, list: [true, null, 'é'] };
    const bytes = Buffer.byteLength(JSON.stringify(mixed));
    expect(ok(mixed, bytes + 3)).toEqual(mixed);
    expect(storable(mixed, bytes - 1).ok).toBe(false);
  });

  it('copies and checks values nested deeper than a hundred levels, and finds a cycle that deep', () => {
    let deep: Record<string, unknown> = { leaf: [1, 'x'] };
    for (let i = 0; i < 150; i++) deep = { next: deep, n: i };
    const copy = ok(deep);
    expect(copy).not.toBe(deep);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(deep));
    let bottom = deep;
    for (let i = 0; i < 150; i++) bottom = bottom['next'] as Record<string, unknown>;
    bottom['loop'] = deep;
    expect(reason(deep)).toBe(`$${'.next'.repeat(150)}.loop refers back to itself (a cycle)`);
    bottom['loop'] = 10n;
    expect(reason(deep)).toBe(`$${'.next'.repeat(150)}.loop is a BigInt, which JSON cannot hold`);
  });

  it('refuses nesting too deep to walk', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(reason(deep, 1 << 30)).toBe('it is nested too deeply to store');
  });
});

describe('storable, given a value that throws when read (found by outside testing)', () => {
  it('refuses it with what was thrown, never throwing itself, whatever the getter throws', () => {
    const trap = () => {
      throw new Error('trap');
    };
    const hostile = new Proxy({}, { get: trap, getPrototypeOf: trap, ownKeys: trap, getOwnPropertyDescriptor: trap });
    const throwsProxy = {
      get details(): never {
        throw hostile;
      },
    };
    const throwsError = {
      get details(): never {
        throw new Error('GET /v failed');
      },
    };
    expect(reason(throwsError)).toBe('it could not be read: GET /v failed');
    expect(reason(throwsProxy)).toMatch(/^it could not be read: /);
    expect(reason({ toJSON: () => { throw hostile; } })).toMatch(/^it could not be read: /);
  });

  it('hides configured credentials in every string and field name of the copy, on the quick path and on the exact walk', () => {
    const key = 'gw-0123456789abcdefXYZ';
    const value = { [`by ${key}`]: [`sent ${key} twice: ${key}`, 1], note: 'nothing here' };
    expect(storable(value, 1 << 20, [key])).toEqual({ ok: true, value: { 'by ***': ['sent *** twice: ***', 1], note: 'nothing here' } });
    // Deeper than the quick walk goes, and near the cap: walked exactly.
    let deep: unknown = { leaf: key };
    for (let i = 0; i < 150; i++) deep = [deep];
    const copied = storable(deep, 1024, [key]);
    expect(copied.ok).toBe(true);
    expect(JSON.stringify(copied.ok ? copied.value : null)).toContain('{"leaf":"***"}');
    // Without credentials the copy is as given.
    expect(storable(value, 1 << 20)).toEqual({ ok: true, value });
  });
});
