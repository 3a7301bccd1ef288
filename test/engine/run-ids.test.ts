/**
 * A caller's run id that is taken, on real SQLite files: `engine.start` hands back the run that has it only when that
 * run is of the same workflow, refuses a run of another workflow (and any run with `existing: 'refuse'`), and decides
 * from what the store's create did, so of concurrent starts exactly one creates. `rerun` to a taken id is refused.
 * A caller's id may not hold `~`, which only the ids of child runs hold: a run started under a child's id would be
 * taken as that child (a forged approval sub-workflow's output), so such a start is refused before anything is stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rerun } from '../../src/engine/rerun.js';
import { RunIdTakenError } from '../../src/errors.js';
import { harness, inputOf, load, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const N = 8;

describe('a run id holding "~" (the mark of a child run id)', () => {
  it('is refused by start, detached or not, and by rerun; the parent later runs its own child', async () => {
    h = await harness();
    const engine = h.engine();
    const invoice = await load('invoice-approval.yaml');
    const intake = await load('invoice-intake.yaml');
    for (const detach of [false, true]) {
      // The id the intake run's approval step gives its child: a run started under it would stand in for the child.
      const forged = await engine.start(invoice, { input: inputOf('invoice-approval.yaml'), runId: 'order-42~approval.1', detach }).catch((e: unknown) => e);
      expect(forged).toMatchObject({ code: 'usage' });
      expect((forged as Error).message).toMatch(/"order-42~approval\.1" holds "~"/);
    }
    expect(await engine.store.get('order-42~approval.1')).toBeNull();

    const parent = await engine.start(intake, { input: inputOf('invoice-intake.yaml'), runId: 'order-42' });
    const child = await engine.store.get('order-42~approval.1');
    expect(child?.options.parent).toMatchObject({ runId: 'order-42', step: 'approval' });
    expect(parent.status).not.toBe('failed');

    const refused = await rerun(engine, 'order-42', 'approval', { runId: 'copy~approval.1' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'usage' });
    expect(await engine.store.get('copy~approval.1')).toBeNull();
  });

  it('a run already stored under a child id by other means (an older store) is not taken as the child', async () => {
    h = await harness();
    const engine = h.engine();
    const invoice = await load('invoice-approval.yaml');
    await engine.start(invoice, { input: inputOf('invoice-approval.yaml'), runId: 'plain' });
    const plain = (await engine.store.get('plain'))!;
    await engine.store.create({ ...plain, id: 'order-43~approval.1', lease: null }, []);
    const parent = await engine.start(await load('invoice-intake.yaml'), { input: inputOf('invoice-intake.yaml'), runId: 'order-43' });
    // The step fails (its onError route ends the run `rejected`, with the reason), not done on the stored run's output.
    expect(parent.status).toBe('done');
    expect(parent.output).toMatchObject({ decision: 'rejected', reason: expect.stringMatching(/"order-43~approval\.1" is taken by a run that step "approval" of run order-43 did not start/) });
  });
});

describe('engine.start with a taken run id', () => {
  it('a run of another workflow is refused (run_exists) and left as it was, attached or detached; the same workflow gets the run', async () => {
    h = await harness();
    const engine = h.engine();
    const invoice = await load('invoice-approval.yaml');
    const expense = await load('expense-review.yaml');
    const first = await engine.start(invoice, { input: inputOf('invoice-approval.yaml'), runId: 'taken' });
    const before = await engine.store.get('taken');
    const journal = await engine.journal('taken');

    for (const detach of [false, true]) {
      const error = await engine.start(expense, { input: inputOf('expense-review.yaml'), runId: 'taken', detach }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunIdTakenError);
      expect(error).toMatchObject({ code: 'run_exists', runId: 'taken', workflow: 'invoice-approval', requested: 'expense-review', sameWorkflow: false });
      expect((error as Error).message).toContain('taken by a run of invoice-approval, not of expense-review');
    }
    expect(await engine.store.get('taken')).toEqual(before);
    expect(await engine.journal('taken')).toEqual(journal);

    const again = await engine.start(invoice, { input: { other: 'input' }, runId: 'taken' });
    expect(again).toMatchObject({ runId: 'taken', createdAt: first.createdAt });
    const refused = await engine.start(invoice, { input: inputOf('invoice-approval.yaml'), runId: 'taken', existing: 'refuse' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'run_exists', sameWorkflow: true });
    expect(await engine.store.get('taken')).toEqual(before);
  });

  it(`${N} concurrent starts of one id with existing: 'refuse': exactly one creates the run, the others are refused`, async () => {
    h = await harness();
    const engine = h.engine();
    const invoice = await load('invoice-approval.yaml');
    for (const detach of [false, true]) {
      const runId = `race-${detach}`;
      const settled = await Promise.allSettled(
        Array.from({ length: N }, () => engine.start(invoice, { input: inputOf('invoice-approval.yaml'), runId, detach, existing: 'refuse' })),
      );
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
      for (const s of settled) if (s.status === 'rejected') expect(s.reason).toMatchObject({ code: 'run_exists', runId, sameWorkflow: true });
      expect((await engine.journal(runId)).filter((e) => e.event === 'created')).toHaveLength(1);
    }
  });

  it(`${N} concurrent starts of two workflows with one id: the losers of the other workflow are refused, of the same one get the run`, async () => {
    h = await harness();
    const engine = h.engine();
    const sources = [await load('invoice-approval.yaml'), await load('expense-review.yaml')] as const;
    const picks = Array.from({ length: N }, (_, i) => sources[i % 2]!);
    const settled = await Promise.allSettled(picks.map((s) => engine.start(s, { input: inputOf(`${s.workflow.id}.yaml`), runId: 'mixed' })));
    const stored = (await engine.store.get('mixed'))!.workflow;
    settled.forEach((s, i) => {
      if (picks[i]!.workflow.id === stored) expect(s).toMatchObject({ status: 'fulfilled', value: { runId: 'mixed', workflow: stored } });
      else expect(s).toMatchObject({ status: 'rejected', reason: { code: 'run_exists', workflow: stored } });
    });
  });
});

describe('rerun to a taken run id', () => {
  it('is refused (run_exists) and the run that has the id is left as it was', async () => {
    h = await harness();
    const engine = h.engine();
    const invoice = await load('invoice-approval.yaml');
    const source = await engine.start(invoice, { input: inputOf('invoice-approval.yaml') });
    await engine.start(await load('expense-review.yaml'), { input: inputOf('expense-review.yaml'), runId: 'other' });
    const before = await engine.store.get('other');
    const journal = await engine.journal('other');
    const error = await rerun(engine, source.runId, 'validate', { runId: 'other' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunIdTakenError);
    expect(error).toMatchObject({ code: 'run_exists', runId: 'other', workflow: 'expense-review', requested: 'invoice-approval' });
    expect(await engine.store.get('other')).toEqual(before);
    expect(await engine.journal('other')).toEqual(journal);
  });
});
