/**
 * Budgets against a tokenizer that differs from the local estimate: the run
 * calibrates its projections from the billed `usage` of earlier replies (kept
 * in its context), and asks `count_tokens` for the exact count when a call
 * comes near `stopAt`. Through the real engine, SDK and emulator, whose
 * `tokenScale` plays a tokenizer that counts 30 % more or less.
 */
import { describe, expect, it } from 'vitest';
import { showRun } from '../../src/query/show.js';
import { seededRandom } from '../../src/util/random.js';
import { definition, recordNote, rig } from './helpers.js';

const paragraph =
  'The customer reports that the quarterly invoice lists services that were cancelled in March, and asks for a corrected copy. ' +
  'Their account manager confirmed the cancellation by phone; the ledger still shows the old contract line and 3 open credit notes. ';
const longPrompt = (title: string) => `Record a note titled ${title} about this case.\n${paragraph.repeat(14)}`;

const workflow = {
  id: 'long-notes',
  budget: { tokens: 50_000, stopAt: 0.9 },
  retry: { maxAttempts: 2, backoff: { initial: '1s', factor: 2, max: '2s', jitter: 0 } },
  steps: {
    first: { claude: { tool: 'record_note', prompt: longPrompt('Intake'), maxTokens: 120 } },
    second: { claude: { tool: 'record_note', prompt: longPrompt('Review'), maxTokens: 120 } },
    third: { claude: { tool: 'record_note', prompt: longPrompt('Reply'), maxTokens: 120 } },
    fourth: { claude: { tool: 'record_note', prompt: longPrompt('Closing'), maxTokens: 120 }, next: 'done' },
    done: { final: true, output: '{% $steps.fourth.output %}' },
  },
};
const def = () => definition(workflow, [recordNote]);

/** Tokens one step bills at scale 1 (input, output), from a run with room to spare. */
async function perStep(): Promise<{ input: number; output: number }> {
  const r = await rig();
  try {
    const run = await r.engine.start(def());
    expect(run.status).toBe('done');
    const first = run.steps[0]!;
    return { input: first.inputTokens, output: first.outputTokens };
  } finally {
    await r.close();
  }
}

describe('budget calibration', () => {
  it('with a tokenizer counting 30 % more, a tight budget is never crossed: the run rests budget_exhausted (30 seeds, flaky)', async () => {
    const step = await perStep();
    const billed = Math.ceil(step.input * 1.3) + step.output;
    const outcomes: string[] = [];
    let countTokens = 0;
    let messages = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const random = seededRandom(seed);
      // A limit anywhere from one to four steps' worth of billed tokens.
      const budget = Math.ceil(((1 + 3 * random()) * billed) / 0.9);
      const r = await rig({ seed, faults: { invalid_input: 0.1, rate_limit: 0.05 }, tokenScale: 1.3 });
      try {
        const run = await r.engine.start(def(), { budget });
        expect(run.usage.totalTokens, `seed ${seed}, budget ${budget}`).toBeLessThanOrEqual(Math.floor(0.9 * budget));
        expect(['done', 'budget_exhausted', 'failed']).toContain(run.status);
        if (run.status === 'budget_exhausted') expect(run.resumable).toBe(true);
        outcomes.push(run.status);
        countTokens += r.emu.stats().countTokens;
        messages += r.emu.stats().messages;
      } finally {
        await r.close();
      }
    }
    expect(outcomes.filter((s) => s === 'budget_exhausted').length).toBeGreaterThan(15);
    // Exact counts were asked near the limit only: fewer than the calls sent.
    expect(countTokens).toBeGreaterThan(0);
    expect(countTokens).toBeLessThan(messages);
  });

  it('with a tokenizer counting 30 % less, a budget the local estimate would refuse completes', async () => {
    const step = await perStep();
    const scaled = Math.ceil(step.input * 0.7) + 120;
    // Room for four calls at 0.7× input, not for four at the local estimate.
    const budget = Math.ceil((4 * scaled + 40) / 0.9);
    expect(4 * (step.input + 120)).toBeGreaterThan(0.9 * budget);
    const r = await rig({ tokenScale: 0.7 });
    try {
      const run = await r.engine.start(def(), { budget });
      expect(run).toMatchObject({ status: 'done', failure: null });
      expect(r.emu.stats().countTokens).toBeGreaterThan(0);
    } finally {
      await r.close();
    }
  });

  it('asks count_tokens only near the limit: none with room to spare; show reports estimated vs billed input per attempt', async () => {
    const r = await rig({ tokenScale: 1.3 });
    try {
      const run = await r.engine.start(def());
      expect(run.status).toBe('done');
      expect(r.emu.stats().countTokens).toBe(0);
      const detail = await showRun(r.store, run.runId);
      const attempts = detail.timeline.rows.filter((row) => row.event === 'completed');
      expect(attempts).toHaveLength(4);
      for (const row of attempts) {
        expect(row.estimatedInput).toBeGreaterThan(0);
        expect(row.inputTokens).toBe(Math.ceil(row.estimatedInput! * 1.3));
      }
      // Projections after the first reply are calibrated: 1.3× the local estimate.
      const started = detail.journal.filter((e) => e.event === 'started').map((e) => (e.data as { projectedTokens: number }).projectedTokens);
      expect(started[0]).toBe(attempts[0]!.estimatedInput! + 120);
      expect(started[1]).toBeGreaterThan(attempts[1]!.estimatedInput! * 1.29 + 120);
    } finally {
      await r.close();
    }
  });
});
