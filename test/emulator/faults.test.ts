import { describe, expect, it } from 'vitest';
import { StepwiseError } from '../../src/errors.js';
import { faultProfiles, parseFaults, startEmulator } from '../../src/emulator/index.js';

describe('parseFaults', () => {
  it('parses rates and latency', () => {
    expect(parseFaults('rate_limit=0.1, latency=20')).toEqual({ rate_limit: 0.1, latency: 20 });
    expect(parseFaults('')).toEqual({});
  });

  it('accepts profile names, later items overriding', () => {
    expect(parseFaults('flaky')).toEqual(faultProfiles.flaky);
    expect(parseFaults('flaky,rate_limit=0')).toMatchObject({ ...faultProfiles.flaky, rate_limit: 0 });
    expect(parseFaults('none')).toEqual({});
  });

  it('hostile is about three times flaky, plus timeouts', () => {
    expect(faultProfiles.hostile.rate_limit).toBeCloseTo(3 * (faultProfiles.flaky.rate_limit ?? 0));
    expect(faultProfiles.hostile.timeout).toBeGreaterThan(0);
  });

  it('names the bad part and the valid names', () => {
    const bad = (spec: string): StepwiseError => {
      try {
        parseFaults(spec);
      } catch (error) {
        return error as StepwiseError;
      }
      throw new Error('no error');
    };
    const unknown = bad('rate_limit=0.1,explode=0.5');
    expect(unknown).toBeInstanceOf(StepwiseError);
    expect(unknown.code).toBe('usage');
    expect(unknown.message).toContain('explode');
    expect(unknown.message).toContain('overloaded');
    expect(bad('overloaded=2').message).toContain('between 0 and 1');
    expect(bad('latency=-1').message).toContain('latency');
    expect(bad('sometimes').message).toContain('hostile');
  });

  it('startEmulator rejects a bad spec before listening', async () => {
    await expect(startEmulator({ faults: 'nope=1' })).rejects.toThrow(/nope/);
    await expect(startEmulator({ faults: { rate_limit: 3 } })).rejects.toThrow(/rate_limit/);
  });
});
