/**
 * The token budget: the guard refuses, before the call, a model call whose
 * projected tokens would take the run past stopAt × budget; the run rests in
 * `budget_exhausted` (resumable) and resume with a larger budget finishes it.
 * Through the engine and through the real CLI, against the emulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinition } from '../../src/definition/load.js';
import { cli, lastJson, tempStore } from '../cli/helpers.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { definition, events, recordNote, rig, vendorApi, type Rig } from './helpers.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';

const FILE = 'test/guards/fixtures/three-notes.yaml';

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

/** Projected tokens of each step's first attempt, from a run with room to spare. */
async function projections(): Promise<{ projected: number[]; used: number[] }> {
  const probe = await rig();
  try {
    const run = await probe.engine.start(await loadDefinition(FILE));
    expect(run.status).toBe('done');
    const journal = await probe.engine.journal(run.runId);
    return {
      projected: events(journal, 'started').map((e) => (e.data as { projectedTokens: number }).projectedTokens),
      used: run.steps.map((s) => s.tokens),
    };
  } finally {
    await probe.close();
  }
}

describe('token budget', () => {
  it('refuses the call that would cross stopAt, rests budget_exhausted, and resume with a larger budget finishes', async () => {
    const { projected, used } = await projections();
    // Room for the first two calls; the third would cross 90 % of the budget.
    const budget = Math.ceil((used[0]! + used[1]! + projected[2]! - 1) / 0.9);
    r = await rig();
    const def = await loadDefinition(FILE);
    const run = await r.engine.start(def, { budget });
    expect(run).toMatchObject({ status: 'budget_exhausted', resumable: true, failure: { kind: 'budget', step: 'third' } });
    expect(run.failure?.message).toMatch(/would bring the run to \d+ tokens, past \d+ \(90 % of the \d+-token budget\)/);
    expect(run.usage.totalTokens).toBe(used[0]! + used[1]!);
    expect(run.usage.totalTokens).toBeLessThanOrEqual(0.9 * budget);
    expect(r.emu.stats().messages).toBe(2); // the third call was never made (count_tokens was asked near the limit)
    const journal = await r.engine.journal(run.runId);
    expect(events(journal, 'budget_exhausted')).toMatchObject([{ step: 'third', error: { kind: 'budget' } }]);

    const resumed = await r.engine.resume(run.runId, { budget: budget * 2 });
    expect(resumed).toMatchObject({ status: 'done', failure: null, budget: { tokens: budget * 2 } });
    expect(resumed.steps.map((s) => [s.id, s.status])).toEqual([
      ['first', 'done'],
      ['second', 'done'],
      ['third', 'done'],
      ['done', 'done'],
    ]);
    expect(r.emu.stats().messages).toBe(3); // completed steps did not run again
  });

  it('a run that billed past its limit still runs the steps that call no model; the next model call is refused', async () => {
    // The server bills 20× the input the call was projected at (a tokenizer the calibration has not seen yet): past the limit.
    r = await rig({ tokenScale: 20, tools: [recordNote, vendorApi] });
    const note = { claude: { tool: 'record_note', prompt: 'Note the vendor.', maxTokens: 100 } };
    const steps = (last: Record<string, unknown>) => ({
      note,
      lookup: { tool: 'vendor_api', with: { vendorId: 'V-1' } },
      ...last,
    });
    const budget = { tokens: 2000, stopAt: 0.9 };
    const done = await r.engine.start(definition({ id: 'over-then-tool', budget, steps: steps({ done: { final: true, output: '{% $steps.lookup.output %}' } }) }, [recordNote, vendorApi]));
    expect(done.usage.totalTokens).toBeGreaterThan(1800);
    expect(done).toMatchObject({ status: 'done', output: { vendorId: 'V-1', name: 'ACME' } });

    const again = await r.engine.start(
      definition({ id: 'over-then-model', budget, steps: steps({ again: note, done: { final: true } }) }, [recordNote, vendorApi]),
    );
    expect(again).toMatchObject({ status: 'budget_exhausted', failure: { kind: 'budget', step: 'again' } });
    expect(again.steps.find((s) => s.id === 'lookup')?.status).toBe('done');
  });

  it('a budget too small for the first call stops before any request', async () => {
    r = await rig();
    const run = await r.engine.start(await loadDefinition(FILE), { budget: 100 });
    expect(run).toMatchObject({ status: 'budget_exhausted', failure: { kind: 'budget', step: 'first' }, usage: { totalTokens: 0 } });
    expect(r.emu.stats().messages).toBe(0); // only count_tokens, for the exact count near the limit
  });

  it('through the CLI: run --budget stops budget_exhausted (exit 1), resume --budget continues it', { timeout: SPAWN_BUDGET_MS }, async () => {
    const { projected, used } = await projections();
    const budget = Math.ceil((used[0]! + projected[1]! - 1) / 0.9);
    const store = tempStore();
    const first = await cli(['run', '--emulator', FILE, '--budget', String(budget), '--json', ...store]);
    expect(first.code).toBe(1);
    const stopped = lastJson(first.stdout);
    expect(stopped).toMatchObject({ status: 'budget_exhausted', resumable: true, failure: { kind: 'budget', step: 'second' } });

    const again = await cli(['resume', '--emulator', stopped.runId, '--json', ...store]); // the same budget: refused again, nothing spent
    expect(lastJson(again.stdout)).toMatchObject({ status: 'budget_exhausted', usage: { totalTokens: stopped.usage.totalTokens } });

    const resumed = await cli(['resume', '--emulator', stopped.runId, '--budget', '50000', '--json', ...store]);
    expect(resumed.code).toBe(0);
    expect(lastJson(resumed.stdout)).toMatchObject({ status: 'done', failure: null });
  });

  describe('pause_turn continuations', () => {
    const paused = {
      id: 'paused',
      steps: {
        write: { claude: { tool: 'record_note', prompt: 'Record a note titled Quarterly review.', maxTokens: 300 }, next: 'done' },
        done: { final: true, output: '{% $steps.write.output %}' },
      },
    };

    it('each continuation is projected against the budget before it is sent; one that would cross stopAt stops the run budget_exhausted', async () => {
      const store = createMemoryStore();
      const pausing = await rig({ faults: 'pause_turn=1', tools: [recordNote], store });
      // A budget with room for the first call only: its projection lands exactly on 90 %.
      const probe = await pausing.engine.start(definition(paused, [recordNote]), { detach: true });
      const projected = (await pausing.engine.step(probe.runId), events(await pausing.engine.journal(probe.runId), 'started')[0]!.data as { projectedTokens: number }).projectedTokens;
      const budget = Math.ceil(projected / 0.9);
      const requestsBefore = pausing.emu.stats().messages;

      const run = await pausing.engine.start(definition(paused, [recordNote]), { budget });
      expect(run).toMatchObject({ status: 'budget_exhausted', resumable: true, failure: { kind: 'budget', step: 'write' } });
      expect(run.failure?.message).toMatch(/paused.*would bring the run to \d+ tokens, past \d+ \(90 % of the \d+-token budget\)/);
      expect(pausing.emu.stats().messages - requestsBefore).toBe(1); // the continuation was never sent
      expect(run.usage.totalTokens).toBeGreaterThan(0); // the paused reply is charged
      expect(run.usage.totalTokens).toBeLessThanOrEqual(0.9 * budget);
      const journal = await pausing.engine.journal(run.runId);
      expect(events(journal, 'budget_exhausted')).toMatchObject([{ step: 'write', error: { kind: 'budget' }, usage: { totalTokens: run.usage.totalTokens } }]);
      expect(events(journal, 'failed')).toHaveLength(0);
      await pausing.close();

      // A model that no longer pauses, and a budget with room: resume finishes the run.
      r = await rig({ tools: [recordNote], store });
      const resumed = await r.engine.resume(run.runId, { budget: budget * 4 });
      expect(resumed).toMatchObject({ status: 'done', failure: null });
      expect(resumed.usage.totalTokens).toBeLessThanOrEqual(0.9 * budget * 4);
      await store.close();
    });

    it('a model that keeps pausing never takes the run past stopAt × budget', async () => {
      r = await rig({ faults: 'pause_turn=1', tools: [recordNote] });
      for (const budget of [600, 1500, 3000]) {
        const run = await r.engine.start(definition(paused, [recordNote]), { budget });
        expect(run.usage.totalTokens, `budget ${budget}`).toBeLessThanOrEqual(0.9 * budget);
      }
    });
  });
});
