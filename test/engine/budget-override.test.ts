/**
 * The token budget a caller gives `engine.start` or `engine.resume` (a service passing `Number(body.budget)`) must be
 * a whole number of tokens above zero: NaN switched the budget off (a 700-token run spent 5,171), Infinity removed
 * it, and -1 or 1.5 stopped the run at once. Refused as `usage` before anything is stored or driven, as the CLI does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StepwiseError } from '../../src/errors.js';
import { harness, inputOf, load, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const bad = [Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 1.5];

describe('a budget override', () => {
  it('that is not a positive whole number of tokens is refused by start and resume, and nothing changes', async () => {
    h = await harness();
    const engine = h.engine();
    const invoice = await load('invoice-approval.yaml');
    for (const budget of bad) {
      const error = await engine.start(invoice, { input: inputOf('invoice-approval.yaml'), runId: `b-${String(budget)}`, budget }).catch((e: unknown) => e);
      expect(error, String(budget)).toBeInstanceOf(StepwiseError);
      expect(error).toMatchObject({ code: 'usage' });
      expect((error as Error).message).toContain('a whole number of tokens above 0');
      expect(await engine.store.get(`b-${String(budget)}`)).toBeNull();
    }
    const run = await engine.start(invoice, { input: inputOf('invoice-approval.yaml'), runId: 'ok', budget: 20000 });
    const before = await engine.store.get('ok');
    for (const budget of bad) {
      await expect(engine.resume('ok', { budget }), String(budget)).rejects.toMatchObject({ code: 'usage' });
    }
    expect((await engine.store.get('ok'))?.revision).toBe(before?.revision);
    expect(run.budget.tokens).toBe(20000);
  });
});
