import { describe, expect, it } from 'vitest';
import { resolveLimits } from '../../src/policy/limits.js';

describe('resolveLimits', () => {
  it('fills in defaults', () => {
    expect(resolveLimits()).toEqual({ maxVisits: 10, repeatedInputs: 3 });
  });

  it('takes the workflow limits, and a step maxVisits over them', () => {
    expect(resolveLimits({ maxVisits: 4, repeatedInputs: 2 })).toEqual({ maxVisits: 4, repeatedInputs: 2 });
    expect(resolveLimits({ maxVisits: 4 }, 7)).toEqual({ maxVisits: 7, repeatedInputs: 3 });
    expect(resolveLimits(undefined, 2)).toEqual({ maxVisits: 2, repeatedInputs: 3 });
  });
});
