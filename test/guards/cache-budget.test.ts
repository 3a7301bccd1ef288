/**
 * Budgets with prompt caching (on by default): a request whose stable prefix
 * carries a `cache_control` mark may write that prefix to the cache, which is
 * billed at 1.25× (tokens and dollars). The projection the guard checks covers
 * that write — for the first call, the exact (`count_tokens`) count near the
 * limit and each `pause_turn` continuation — so a run never bills past
 * `stopAt × budget`; and the calibration compares the whole billed prompt
 * (uncached, written and read) with the local estimate of the same prompt.
 * Through the real engine, SDK and emulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { renderTimeline } from '../../src/observe/timeline.js';
import { showRun } from '../../src/query/show.js';
import { definition, events, recordNote, rig, type Rig } from './helpers.js';

/** About `n` × 4 tokens of stable policy text (the tester's system prompt: ~12k tokens for n = 3000). */
const policy = (n: number, word = 'policy') => Array.from({ length: n }, (_, i) => `${word}${i % 7} rule`).join(' ');

/** One `claude` step whose system text is the cached prefix, no retries. */
const oneCall = (budget: Record<string, unknown>, system = policy(3000)) =>
  definition(
    {
      id: 'cache-overrun',
      budget,
      retry: { maxAttempts: 1 },
      steps: {
        extract: { claude: { tool: 'record_note', system, prompt: 'Record a note titled Intake.', maxTokens: 200 }, next: 'done' },
        done: { final: true, output: '{% $steps.extract.output %}' },
      },
    },
    [recordNote],
  );

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

describe('budget with prompt caching', () => {
  it("the tester's case: a ~12k-token cached system text under a 13,900-token budget (stopAt 0.9) stops before the call", async () => {
    r = await rig({ tools: [recordNote] });
    const run = await r.engine.start(oneCall({ tokens: 13_900, stopAt: 0.9 }));
    expect(run).toMatchObject({ status: 'budget_exhausted', resumable: true, failure: { kind: 'budget', step: 'extract' }, usage: { totalTokens: 0 } });
    expect(r.emu.stats().messages).toBe(0);
  });

  it('the projection covers the cache write: at no budget does the run bill past stopAt × tokens, and one with room completes', async () => {
    r = await rig({ tools: [recordNote] });
    const probe = await r.engine.start(oneCall({ tokens: 100_000 }));
    expect(probe.status).toBe('done');
    // The call wrote its prefix: billed at 1.25× in totalTokens.
    expect(probe.usage.cacheCreationInputTokens).toBeGreaterThan(10_000);
    expect(probe.usage.totalTokens).toBeGreaterThan(probe.usage.inputTokens + probe.usage.outputTokens + probe.usage.cacheCreationInputTokens!);
    const started = events(await r.engine.journal(probe.runId), 'started')[0]!.data as { projectedTokens: number };
    expect(started.projectedTokens).toBeGreaterThanOrEqual(probe.usage.totalTokens);

    const statuses = new Set<string>();
    for (let budget = 13_000; budget <= 18_500; budget += 250) {
      // A new emulator each time: its cache is empty, so every run writes the prefix.
      await r.close();
      r = await rig({ tools: [recordNote] });
      const run = await r.engine.start(oneCall({ tokens: budget, stopAt: 0.9 }));
      expect(run.usage.totalTokens, `budget ${budget}: ${run.status}`).toBeLessThanOrEqual(0.9 * budget);
      statuses.add(run.status);
    }
    expect([...statuses].sort()).toEqual(['budget_exhausted', 'done']);
  });

  it('the dollar budget counts the write at its price: no run bills past stopAt × usd', async () => {
    const statuses = new Set<string>();
    for (const usd of [0.036, 0.04, 0.042, 0.046, 0.048, 0.05, 0.055]) {
      r = await rig({ tools: [recordNote] });
      const run = await r.engine.start(oneCall({ tokens: 100_000, usd, stopAt: 1 }));
      expect(run.usage.usd, `$${usd}: ${run.status}`).toBeLessThanOrEqual(usd);
      statuses.add(run.status);
      if (run.status === 'budget_exhausted') expect(run.failure?.message).toMatch(/past \$/);
      await r.close();
      r = undefined;
    }
    expect([...statuses].sort()).toEqual(['budget_exhausted', 'done']);
  });

  it('each pause_turn continuation is projected with the write too: a pausing model never takes the run past stopAt', async () => {
    for (const budget of [14_000, 16_000, 17_500, 19_000, 22_000]) {
      r = await rig({ faults: 'pause_turn=1', tools: [recordNote] });
      const run = await r.engine.start(oneCall({ tokens: budget, stopAt: 0.9 }));
      expect(run.usage.totalTokens, `budget ${budget}: ${run.status}`).toBeLessThanOrEqual(0.9 * budget);
      await r.close();
      r = undefined;
    }
  });

  it('calibrates on the whole prompt when replies write and read the cache (tokenizer counting 30 % more)', async () => {
    // Four steps: two share one cached prefix (the second reads it), two more each write a prefix of their own.
    const step = (system: string, title: string, next?: string) => ({ claude: { tool: 'record_note', system, prompt: `Record a note titled ${title}.`, maxTokens: 120 }, ...(next ? { next } : {}) });
    const shared = policy(600, 'alpha');
    const workflow = (budget: number) =>
      definition(
        {
          id: 'cached-notes',
          budget: { tokens: budget, stopAt: 0.9 },
          retry: { maxAttempts: 1 },
          steps: {
            first: step(shared, 'Intake'),
            second: step(shared, 'Review'),
            third: step(policy(900, 'beta'), 'Reply'),
            fourth: step(policy(900, 'gamma'), 'Closing', 'done'),
            done: { final: true, output: '{% $steps.fourth.output %}' },
          },
        },
        [recordNote],
      );

    r = await rig({ tokenScale: 1.3, tools: [recordNote] });
    const roomy = await r.engine.start(workflow(200_000));
    expect(roomy.status).toBe('done');
    expect(r.emu.stats().countTokens).toBe(0);
    const detail = await showRun(r.store, roomy.runId);
    const rows = detail.timeline.rows.filter((row) => row.event === 'completed');
    expect(rows).toHaveLength(4);
    // `show` compares the estimate with the whole billed prompt (uncached + written + read), not the uncached rest alone.
    const journal = await r.engine.journal(roomy.runId);
    const completed = events(journal, 'completed');
    for (const [i, entry] of completed.entries()) {
      const u = entry.usage!;
      const prompt = u.inputTokens + (u.cacheCreationInputTokens ?? 0) + (u.cacheReadInputTokens ?? 0);
      expect(prompt).toBe(Math.ceil(rows[i]!.estimatedInput! * 1.3));
    }
    expect(completed[1]!.usage!.cacheReadInputTokens).toBeGreaterThan(0);
    const lines = renderTimeline(detail.timeline).filter((line) => line.includes('est. input'));
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/est\. input \d+, billed \d+ \(×1\.30\)/);
    // After the first reply the projections are calibrated (1.3×) and cover what their call billed, a cache write included.
    const started = events(journal, 'started').map((e) => (e.data as { projectedTokens: number }).projectedTokens);
    for (const [i, entry] of completed.entries()) if (i > 0) expect(started[i], `step ${i + 1}`).toBeGreaterThanOrEqual(entry.usage!.totalTokens);
    expect(completed[2]!.usage!.cacheCreationInputTokens).toBeGreaterThan(0);
    expect(started[2]).toBeGreaterThan(rows[2]!.estimatedInput! * 1.29 + 120);

    // Tight budgets: never crossed, whatever step the limit falls on.
    const statuses = new Set<string>();
    for (let budget = 8_000; budget <= 26_000; budget += 1_500) {
      await r.close();
      r = await rig({ tokenScale: 1.3, tools: [recordNote] });
      const run = await r.engine.start(workflow(budget));
      expect(run.usage.totalTokens, `budget ${budget}: ${run.status}`).toBeLessThanOrEqual(0.9 * budget);
      statuses.add(run.status);
    }
    expect(statuses.has('budget_exhausted')).toBe(true);
  });
});
