/**
 * The prompt-cache figure: `items` calls of one `claude` step whose requests
 * share a `prefixTokens`-token policy (declared `shared:`), each with its own
 * line item, on the emulator — once with caching and once with `cache: false`.
 * Billed input = uncached input + 1.25 × cache writes + 0.1 × cache reads (the
 * API's prices relative to input); the figure is the ratio of the two.
 * Deterministic: token counts, not time.
 */
import { z } from 'zod';
import { loadDefinitionFromObject } from '../definition/load.js';
import { startEmulator } from '../emulator/server.js';
import { ManualClock } from '../engine/clock.js';
import { createEngine, type Engine } from '../engine/engine.js';
import { countTokens } from '../model/tokens.js';
import { CACHE_READ_RATE, CACHE_WRITE_RATE } from '../policy/pricing.js';
import type { Usage } from '../run/types.js';
import { createMemoryStore } from '../store/memory.js';
import { defineTool, type AnyTool } from '../tools/define.js';

export interface PromptCacheFigure {
  readonly items: number;
  readonly prefixTokens: number;
  /** Billed input tokens of all items with caching. */
  readonly billedCached: number;
  /** Billed (all regular) input tokens of the same items with `cache: false`. */
  readonly billedUncached: number;
  readonly ratio: number;
  readonly measure: string;
}

export const checkItem = defineTool({
  name: 'check_line_item',
  description: 'Record whether one invoice line item complies with the purchasing policy.',
  input: z.object({ item: z.string().describe('The line item, as given'), compliant: z.boolean(), reason: z.string() }),
  run: (input) => input,
}) as unknown as AnyTool;

export const billed = (u: Usage) => u.inputTokens + CACHE_WRITE_RATE * (u.cacheCreationInputTokens ?? 0) + CACHE_READ_RATE * (u.cacheReadInputTokens ?? 0);

/** A purchasing policy of about `tokens` tokens for the shared counter. */
export function policyText(tokens: number): string {
  const clauses: string[] = [];
  for (let i = 1; countTokens(clauses.join('\n')) < tokens; i++) {
    clauses.push(`Clause ${i}: purchases of category ${i % 17} above ${i * 250} require approval by level ${1 + (i % 4)} managers within ${i % 9 + 1} days.`);
  }
  return clauses.join('\n');
}

/** The step both prompt-cache figures run: Claude checks a line item against a shared policy, the cached prefix. */
export const checkLineItemStep = {
  claude: {
    tool: 'check_line_item',
    prompt: 'Check the line item against the purchasing policy.',
    context: { policy: '{% $input.policy %}', item: '{% $input.item %}' },
    shared: ['policy'],
    maxTokens: 400,
  },
};

/** Runs `fn` with an engine on a fresh emulator (so no prefix is cached yet) and a memory store, both closed after. */
export async function onFreshEmulator<T>(fn: (engine: Engine) => Promise<T>): Promise<T> {
  const emulator = await startEmulator({ seed: 11 });
  const store = createMemoryStore();
  await store.migrate();
  try {
    return await fn(createEngine({ store, clock: new ManualClock({ autoAdvance: true }), model: { baseURL: emulator.url, apiKey: 'bench', maxRetries: 0 } }));
  } finally {
    await store.close();
    await emulator.close();
  }
}

/** Billed input of `items` runs of one step, one after the other, with or without caching. */
async function billedInput(items: number, policy: string, cache: boolean): Promise<number> {
  return onFreshEmulator(async (engine) => {
    const definition = loadDefinitionFromObject(
      { id: 'bench-prompt-cache', cache, budget: { tokens: 10_000_000 }, steps: { check: checkLineItemStep, done: { final: true, output: '{% $steps.check.output %}' } } },
      [checkItem],
      'bench-prompt-cache',
    );
    let total = 0;
    for (let i = 1; i <= items; i++) {
      const run = await engine.start(definition, { input: { policy, item: `LI-${i}: ${i * 3} units of part P-${1000 + i} at ${(i * 12.5).toFixed(2)}` } });
      total += billed(run.usage);
    }
    return Math.round(total);
  });
}

/** Billed input of `items` calls sharing a `prefixTokens` prefix, cached against uncached. */
export async function promptCacheFigure(items = 20, prefixTokens = 2000): Promise<PromptCacheFigure> {
  const policy = policyText(prefixTokens);
  const billedCached = await billedInput(items, policy, true);
  const billedUncached = await billedInput(items, policy, false);
  return {
    items,
    prefixTokens: countTokens(policy),
    billedCached,
    billedUncached,
    ratio: Math.round((billedCached / billedUncached) * 1000) / 1000,
    measure: 'billed input = input + 1.25 × cache writes + 0.1 × cache reads',
  };
}
