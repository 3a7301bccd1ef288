/**
 * createEngine's numeric options are checked when the engine is made: a NaN or a negative lease, wait, cancel poll
 * or output cap (a service reading `Number(process.env.X)` of an unset variable) had removed the 4 MiB output cap or
 * given a raw PostgreSQL error at the first commit. A `usage` error naming the option instead.
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { createMemoryStore } from '../../src/store/memory.js';

describe('createEngine options', () => {
  it('a lease, wait, poll or output cap that is not a positive finite number is refused, naming the option', () => {
    for (const option of ['leaseMs', 'leaseWaitMs', 'cancelPollMs', 'maxOutputBytes'] as const) {
      for (const value of [Number.NaN, Number.POSITIVE_INFINITY, -1, 0]) {
        if (option === 'leaseWaitMs' && value === 0) continue; // not waiting at all is a choice
        expect(() => createEngine({ store: createMemoryStore(), [option]: value }), `${option} ${value}`).toThrow(
          expect.objectContaining({ code: 'usage', message: expect.stringContaining(`createEngine: ${option} must be`) }),
        );
      }
    }
    expect(() => createEngine({ store: createMemoryStore(), leaseMs: 5000, leaseWaitMs: 0, cancelPollMs: 200, maxOutputBytes: 1024 })).not.toThrow();
  });
});

describe('engine.list', () => {
  it('refuses an unknown status, as listRuns does, instead of answering with no runs', async () => {
    const engine = createEngine({ store: createMemoryStore() });
    await expect(engine.list({ status: ['bogus' as never] })).rejects.toMatchObject({ code: 'usage', message: expect.stringContaining('Unknown status bogus') });
    await expect(engine.list({ status: ['done'] })).resolves.toEqual([]);
  });
});
