/** `stepwise inbox` and `stepwise send … APPROVE --data '{"input": …}' --step …` on the expense-review example, as separate processes on one store. */
import { describe, expect, it } from 'vitest';
import type { InboxEntry } from '../../src/query/inbox.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, example, lastJson, tempStore, type RunJson } from './helpers.js';

describe('stepwise inbox', { timeout: SPAWN_BUDGET_MS }, () => {
  it('lists the review, takes an edited APPROVE from send, then lists the sign-off', async () => {
    const store = [...tempStore(), '--emulator'];
    const run = lastJson<RunJson>((await cli(['run', ...example('expense-review.yaml'), ...store, '--json'])).stdout);
    expect(run.status).toBe('waiting');

    const listed = await cli(['inbox', ...tempStoreOf(store), '--json']);
    expect(listed.code).toBe(0);
    const [review] = lastJson<InboxEntry[]>(listed.stdout);
    expect(review).toMatchObject({ runId: run.runId, step: 'draft', kind: 'review', tool: 'reimburse_expense', events: ['APPROVE', 'REJECT'] });
    const text = await cli(['inbox', ...tempStoreOf(store)]);
    expect(text.stdout).toContain(`${run.runId}  expense-review  draft (review)`);
    expect(text.stdout).toMatch(/1 step waiting/);

    const bad = await cli(['send', run.runId, 'APPROVE', ...store, '--data', JSON.stringify({ input: { ...(review?.proposed as object), currency: 'EURO' } })]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^stepwise: Run "[^"]+" refused APPROVE: .*data\.input\.currency/);

    const edited = { ...(review?.proposed as object), amount: 2500 };
    const sent = await cli(['send', run.runId, 'APPROVE', ...store, '--step', 'draft', '--data', JSON.stringify({ input: edited }), '--json']);
    expect(sent.code).toBe(0);
    expect(lastJson<RunJson>(sent.stdout)).toMatchObject({ status: 'waiting', waitingFor: { step: 'finance_signoff' } });
    const [signoff] = lastJson<InboxEntry[]>((await cli(['inbox', ...tempStoreOf(store), '--json', '--workflow', 'expense-review'])).stdout);
    expect(signoff).toMatchObject({ step: 'finance_signoff', kind: 'wait', show: { amount: 2500 } });
    // `show` tells the same story: the review with its proposal, the edit, the sign-off with what it shows.
    const shown = (await cli(['show', run.runId, ...tempStoreOf(store)])).stdout;
    expect(shown).toContain('for APPROVE | REJECT (review of {');
    expect(shown).toMatch(/APPROVE edited amount/);
    expect(shown).toMatch(/for SIGN \| DECLINE show \{"employee":.*"amount":2500/);
  });
});

/** The `--store` pair of a command's arguments. */
function tempStoreOf(args: readonly string[]): string[] {
  const at = args.indexOf('--store');
  return [args[at]!, args[at + 1]!];
}
