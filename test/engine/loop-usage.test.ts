/**
 * A model call that completes after a sibling parallel branch failed the run by its visit limit (kind `loop`) is
 * charged to the run (found by randomized testing: the journal summed to 534 tokens, the run reported 245). The run
 * no longer has the step when its result comes, so the result is not taken; what the call was billed is charged and
 * journaled as the attempt's cancelled end (as an aborted attempt's charge is, which replay reads). Real engine on a memory store, the emulator over
 * HTTP through the real SDK, a manual clock; the model step's tool holds its attempt until the machine has failed
 * (seen through the engine's `inspect` observer), so the interleaving does not depend on timing.
 */
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { defineTool } from '../../src/tools/define.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

describe('a model call completing after a sibling branch failed the run by its visit limit', () => {
  it('is charged to the run: the journal sums to the run usage', async () => {
    emu = await startEmulator({ seed: 1 });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    let holding!: () => void;
    const heldNow = new Promise<void>((resolve) => (holding = resolve));
    // Holds the model step's attempt (its model call already billed) until the run has failed.
    const hold = defineTool({
      name: 'hold',
      description: 'Writes a note',
      input: z.object({ text: z.string() }),
      run: async (input) => {
        held++;
        holding();
        await released;
        return input;
      },
    });
    // The sibling branch goes round only once the model step's call is answered and its tool holds.
    const tick = defineTool({
      name: 'tick',
      description: 'Ticks',
      input: z.object({ n: z.number() }),
      run: async (input) => {
        await heldNow;
        return input;
      },
    });
    const def = loadDefinitionFromObject(
      {
        id: 'loop-usage',
        steps: {
          both: {
            parallel: {
              branches: {
                a: { steps: { draft: { claude: { tool: 'hold', prompt: 'Write a note about this case.', context: { about: '{% $input %}' }, maxTokens: 200 } } } },
                b: {
                  steps: {
                    tick: { tool: 'tick', with: { n: '{% 1 %}' } },
                    // Entered a third time, the choice fails the run at once (the machine leaves every step).
                    again: { choice: [{ when: '{% $steps.tick.visit < 5 %}', next: 'tick' }, { next: 'end' }], maxVisits: 2 },
                    end: { final: true },
                  },
                },
              },
            },
          },
          done: { final: true },
        },
      },
      [hold, tick],
      'loop-usage',
    );
    const inspect = (event: InspectionEvent) => {
      if (event.type !== '@xstate.snapshot') return;
      const context = (event.snapshot as { context?: { failure?: { kind?: string } | null } }).context;
      if (context?.failure?.kind === 'loop') release();
    };
    const e = createEngine({
      store: createMemoryStore(),
      tools: [hold, tick],
      model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS },
      clock: new ManualClock({ autoAdvance: true }),
      inspect,
    });

    const run = await e.start(def, { input: { case: 3 } });
    expect(run.status).toBe('failed');
    expect(run.failure?.kind).toBe('loop');
    expect(held).toBe(1);
    const journal = await e.journal(run.runId);
    // The model call was billed, and the journal carries it…
    const draft = journal.filter((j) => j.step === 'draft' && (j.usage?.totalTokens ?? 0) > 0);
    expect(draft).toHaveLength(1);
    const billed = draft[0]!.usage!;
    expect(billed.totalTokens).toBeGreaterThan(0);
    // …on the attempt's cancelled end: the run took no result of it.
    expect(draft[0]).toMatchObject({ event: 'failed', error: { kind: 'cancelled' }, data: { aborted: true, charged: billed } });
    expect(journal.some((j) => j.step === 'draft' && j.event === 'completed')).toBe(false);
    // …and so does the run's usage: the journal sums to it.
    const sum = journal.reduce((t, j) => ({ tokens: t.tokens + (j.usage?.totalTokens ?? 0), usd: t.usd + (j.usage?.usd ?? 0) }), { tokens: 0, usd: 0 });
    expect(run.usage.totalTokens).toBe(sum.tokens);
    expect(run.usage.totalTokens).toBeGreaterThanOrEqual(billed.totalTokens);
    expect(run.usage.usd).toBeCloseTo(sum.usd, 9);
    const stored = await e.store.get(run.runId);
    expect(stored?.usage.totalTokens).toBe(sum.tokens);
  });
});
