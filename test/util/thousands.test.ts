import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { thousands } from '../../src/util/thousands.js';

describe('thousands', () => {
  it('groups as toLocaleString("en-US") does', () => {
    for (const n of [0, 7, 999, 1000, 31909, 40000, 1234567.5, -1234.25, 0.1, 12.3456, 1e21]) expect(thousands(n)).toBe(n.toLocaleString('en-US'));
    fc.assert(fc.property(fc.integer({ min: -1e12, max: 1e12 }), (n) => thousands(n) === n.toLocaleString('en-US')));
    fc.assert(fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), (n) => thousands(n) === n.toLocaleString('en-US')));
  });
});
