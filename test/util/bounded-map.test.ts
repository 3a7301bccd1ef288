import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/util/bounded-map.js';

describe('BoundedMap', () => {
  it('forgets the oldest set entry past max; touch makes an entry the newest, get and replace do not', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    expect(map.get('a')).toBe(1);
    map.set('c', 3); // get left 'a' the oldest
    expect([map.has('a'), map.has('b'), map.has('c')]).toEqual([false, true, true]);
    expect(map.touch('b')).toBe(2);
    map.replace('c', 30); // 'c' stays where it stands: the oldest now
    map.replace('z', 9); // absent stays absent
    map.set('d', 4);
    expect([map.has('b'), map.has('c'), map.has('d'), map.has('z')]).toEqual([true, false, true, false]);
    expect(map.size).toBe(2);
  });

  it('refuses a bound below one', () => {
    expect(() => new BoundedMap(0)).toThrow(RangeError);
  });

  it('agrees with a model list under any sequence of operations (least recently used when touched)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 6 }), value: fc.integer() }),
      fc.record({ kind: fc.constant('touch' as const), key: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ kind: fc.constant('replace' as const), key: fc.integer({ min: 0, max: 6 }), value: fc.integer() }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 6 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 60 }), (max, ops) => {
        const map = new BoundedMap<number, number>(max);
        let model: Array<[number, number]> = []; // oldest first
        for (const o of ops) {
          const at = model.findIndex(([k]) => k === o.key);
          if (o.kind === 'set') {
            model = model.filter(([k]) => k !== o.key).concat([[o.key, o.value]]);
            if (model.length > max) model.shift();
            map.set(o.key, o.value);
          } else if (o.kind === 'touch') {
            expect(map.touch(o.key)).toBe(at >= 0 ? model[at]![1] : undefined);
            if (at >= 0) model = model.filter((_, i) => i !== at).concat([model[at]!]);
          } else if (o.kind === 'replace') {
            if (at >= 0) model[at] = [o.key, o.value];
            map.replace(o.key, o.value);
          } else {
            model = model.filter(([k]) => k !== o.key);
            map.delete(o.key);
          }
          expect(map.size).toBe(model.length);
          for (const [k, v] of model) expect(map.get(k)).toBe(v);
        }
      }),
    );
  });
});
