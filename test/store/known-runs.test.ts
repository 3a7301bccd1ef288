import { describe, expect, it } from 'vitest';
import { knownRuns } from '../../src/store/known-runs.js';
import { makeRun } from '../../src/testing/store-fixtures.js';

describe('known runs', () => {
  it('keeps the fixed columns of the most recently used runs, up to its bound', () => {
    const known = knownRuns(2);
    const [a, b, c] = [makeRun(), makeRun(), makeRun()];
    known.remember(a);
    known.remember(b);
    expect(known.get(a.id)).toEqual({ id: a.id, workflow: a.workflow, version: a.version, definition: a.definition, input: a.input, createdAt: a.createdAt });
    known.remember(c); // b is the least recently used now
    expect(known.size).toBe(2);
    expect(known.get(b.id)).toBeUndefined();
    expect(known.get(a.id)?.id).toBe(a.id);
    expect(known.get(c.id)?.id).toBe(c.id);
    known.forget(a.id);
    expect(known.get(a.id)).toBeUndefined();
  });
});
