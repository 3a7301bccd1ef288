/**
 * Prompt caching through the real engine, a SQLite store, the real SDK and the
 * emulator: a step's stable prefix (tool, system, shared context) is marked and
 * byte-identical across calls, the emulator writes it once and reads it after,
 * usage keeps the writes and reads, dollars and the budget price them at cache
 * rates, and `show` reports the hit rate per step.
 */
import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { costUsd } from '../../src/policy/pricing.js';
import { renderCache, showRun } from '../../src/query/index.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import type { Usage } from '../../src/run/types.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

/** About `n` tokens of text for the shared counter. */
const words = (n: number) => Array.from({ length: n }, (_, i) => `pol${String.fromCharCode(97 + (i % 26))}`).join(' ');

const checkItem = defineTool({
  name: 'check_item',
  description: 'Record whether the line item complies with the policy.',
  input: z.object({ itemId: z.string().describe('The item id, e.g. LI-1'), approved: z.boolean() }),
  run: (input) => input,
});

const MODEL = 'claude-sonnet-4-6';

function workflow(options: { cache?: boolean; shared?: boolean } = {}) {
  return loadDefinitionFromObject(
    {
      id: 'cached',
      model: MODEL,
      budget: { tokens: 1_000_000 },
      ...(options.cache === undefined ? {} : { cache: options.cache }),
      steps: {
        check: {
          claude: {
            tool: 'check_item',
            prompt: 'Check the line item against the policy.',
            system: 'You check invoice line items.',
            context: { policy: '{% $input.policy %}', item: '{% $input.item %}' },
            ...(options.shared === false ? {} : { shared: ['policy'] }),
            maxTokens: 300,
          },
          next: 'done',
        },
        done: { final: true, output: '{% $steps.check.output %}' },
      },
    },
    [checkItem],
    'cached',
  );
}

interface Setup {
  engine: Engine;
  store: Store;
  bodies: Array<Record<string, unknown>>;
  /** The JSON answer to each request of `bodies`, in order. */
  replies: Array<Record<string, unknown>>;
  emu: Emulator;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(options: { seed?: number; faults?: string } = {}): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-cache-'));
  const emu = await startEmulator({ seed: options.seed ?? 3, ...(options.faults ? { faults: options.faults } : {}) });
  const store = createSqliteStore({ path: join(dir, 'runs.db') });
  const bodies: Array<Record<string, unknown>> = [];
  const replies: Array<Record<string, unknown>> = [];
  const capture: typeof fetch = async (input, init) => {
    if (typeof init?.body === 'string' && String(input).endsWith('/v1/messages')) bodies.push(JSON.parse(init.body) as Record<string, unknown>);
    const response = await fetch(input, init);
    if (String(input).endsWith('/v1/messages')) replies.push((await response.clone().json()) as Record<string, unknown>);
    return response;
  };
  const client = new Anthropic({ baseURL: emu.url, apiKey: 'x', maxRetries: 0, fetch: capture });
  const engine = createEngine({ store, model: { client, timeoutMs: MODEL_TIMEOUT_MS }, clock: new ManualClock({ autoAdvance: true }) });
  cleanups.push(async () => {
    await store.close();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { engine, store, bodies, replies, emu };
}

const usageOf = (view: { usage: Usage }) => view.usage;
const billedInput = (u: Usage) => u.inputTokens + 1.25 * (u.cacheCreationInputTokens ?? 0) + 0.1 * (u.cacheReadInputTokens ?? 0);

describe('prompt caching of step requests', () => {
  it('marks the shared prefix; the first call writes it and the next reads it, item data after the breakpoint', async () => {
    const { engine, bodies } = await setup();
    const policy = words(2000);
    const first = await engine.start(workflow(), { input: { policy, item: 'LI-1: 3 chairs at 120.00' } });
    const second = await engine.start(workflow(), { input: { policy, item: 'LI-2: 1 desk at 480.00' } });
    expect([first.status, second.status]).toEqual(['done', 'done']);

    expect(first.usage.cacheCreationInputTokens).toBeGreaterThanOrEqual(2000);
    expect(first.usage.cacheReadInputTokens).toBeUndefined();
    expect(second.usage.cacheReadInputTokens).toBe(first.usage.cacheCreationInputTokens);
    expect(second.usage.cacheCreationInputTokens).toBeUndefined();
    // The trail entry of the visit carries them too.
    expect(second.steps[0]).toMatchObject({ id: 'check', cacheReadInputTokens: first.usage.cacheCreationInputTokens });

    // One byte-identical prefix: tools, system, and the shared block marked; the item only after it.
    const [a, b] = bodies.map((body) => body as { tools: unknown; system: unknown; messages: Array<{ content: Array<{ text: string; cache_control?: unknown }> }> });
    expect(a!.tools).toEqual(b!.tools);
    expect(a!.system).toEqual(b!.system);
    const [sharedA, restA] = a!.messages[0]!.content;
    const [sharedB, restB] = b!.messages[0]!.content;
    expect(JSON.stringify(sharedA)).toBe(JSON.stringify(sharedB));
    expect(sharedA!.cache_control).toEqual({ type: 'ephemeral' });
    expect(sharedA!.text).not.toContain('LI-1');
    expect(restA!.text).toContain('LI-1');
    expect(restB!.text).toContain('LI-2');
  });

  it('prices cache writes and reads in dollars (1.25× and 0.1× input) and charges the budget the same weights', async () => {
    const { engine } = await setup();
    const policy = words(2000);
    const runs = [];
    for (const item of ['LI-1', 'LI-2']) runs.push(await engine.start(workflow(), { input: { policy, item } }));
    for (const run of runs) {
      const u = usageOf(run);
      const creation = u.cacheCreationInputTokens ?? 0;
      const read = u.cacheReadInputTokens ?? 0;
      expect(u.usd).toBe(costUsd(MODEL, u.inputTokens, u.outputTokens, { creation, read }));
      // Budget tokens: a write counts 1.25 tokens, a read 0.1 (rounded up per reply).
      expect(u.totalTokens).toBe(u.inputTokens + u.outputTokens + Math.ceil(creation * 1.25) + Math.ceil(read * 0.1));
    }
    const [write, read] = runs.map(usageOf);
    expect(read!.usd).toBeLessThan(write!.usd);
    expect(read!.totalTokens).toBeLessThan(write!.totalTokens);
  });

  it('show reports the cache hit rate per step, in --json and as text', async () => {
    const { engine, store } = await setup();
    const policy = words(2000);
    const first = await engine.start(workflow(), { input: { policy, item: 'LI-1' } });
    const second = await engine.start(workflow(), { input: { policy, item: 'LI-2' } });
    const cold = await showRun(store, first.runId);
    const warm = await showRun(store, second.runId);
    expect(cold.cache).toEqual([expect.objectContaining({ step: 'check', calls: 1, cacheReadInputTokens: 0, hitRate: 0 })]);
    const row = warm.cache[0]!;
    expect(row.cacheReadInputTokens).toBe(second.usage.cacheReadInputTokens);
    expect(row.hitRate).toBeCloseTo(row.cacheReadInputTokens / (row.inputTokens + row.cacheReadInputTokens), 3);
    expect(row.hitRate).toBeGreaterThan(0.8);
    expect(renderCache(warm.cache).join('\n')).toMatch(/check\s+\d+\.\d % hit\s+\d+ read, 0 written/);
    expect(warm.steps[0]).toMatchObject({ cacheReadInputTokens: row.cacheReadInputTokens });
  });

  it('caches nothing below the minimum cacheable length, nor with cache: false', async () => {
    const { engine, bodies } = await setup();
    for (const item of ['LI-1', 'LI-2']) {
      const run = await engine.start(workflow(), { input: { policy: words(300), item } });
      expect(run.usage.cacheCreationInputTokens).toBeUndefined();
      expect(run.usage.cacheReadInputTokens).toBeUndefined();
    }
    for (const item of ['LI-1', 'LI-2']) {
      const run = await engine.start(workflow({ cache: false }), { input: { policy: words(2000), item } });
      expect(run.usage.cacheCreationInputTokens).toBeUndefined();
      expect(run.usage.cacheReadInputTokens).toBeUndefined();
    }
    // Unmarked requests send the user message as one string, as before caching existed.
    for (const body of bodies) expect(typeof (body['messages'] as Array<{ content: unknown }>)[0]!.content).toBe('string');
  });

  it('20 items sharing a 2,000-token prefix bill at most 0.3× the input tokens of the same without caching', async () => {
    const billed = async (cache: boolean) => {
      const { engine } = await setup();
      const policy = words(2000);
      let total = 0;
      for (let i = 1; i <= 20; i++) total += billedInput((await engine.start(workflow({ cache }), { input: { policy, item: `LI-${i}: ${i} units` } })).usage);
      return total;
    };
    const cached = await billed(true);
    const uncached = await billed(false);
    expect(cached / uncached).toBeLessThanOrEqual(0.3);
  });

  it('an invalid-input retry reads the prefix the first attempt wrote: the tool goes out as before, the kept fields still win', async () => {
    const policy = words(2000);
    type Usage = { cache_creation_input_tokens: number; cache_read_input_tokens: number };
    // The first seed (deterministic) whose first attempt is invalid with a field kept, and whose retry succeeds.
    for (let seed = 1; seed <= 30; seed++) {
      const { engine, bodies, replies } = await setup({ seed, faults: 'invalid_input=0.5' });
      const run = await engine.start(workflow(), { input: { policy, item: 'Item Id: LI-7' } });
      const failed = (await engine.journal(run.runId)).find((e) => e.event === 'failed');
      if (run.status !== 'done' || bodies.length !== 2 || !failed?.error?.message.includes('invalid')) continue;
      const [first, retry] = bodies as Array<{ tools: unknown; messages: Array<{ content: Array<{ text: string }> }> }>;
      const feedback = retry!.messages[0]!.content.map((b) => b.text).join('');
      if (!feedback.includes('accepted and kept')) continue;
      // Byte-identical tools: the retry's prefix is the one the first attempt wrote, so it is read, not written again.
      expect(JSON.stringify(retry!.tools)).toBe(JSON.stringify(first!.tools));
      const [write, read] = replies.map((r) => r['usage'] as Usage);
      expect(write!.cache_creation_input_tokens).toBeGreaterThanOrEqual(2000);
      expect(read!.cache_read_input_tokens).toBe(write!.cache_creation_input_tokens);
      expect(read!.cache_creation_input_tokens).toBe(0);
      expect(run.usage.cacheCreationInputTokens).toBe(write!.cache_creation_input_tokens);
      // The model is told which fields were kept, and that what it sends for them is not used: the first attempt's values ran.
      const kept = /accepted and kept: (\w+(?:, \w+)*)\. What you give for them now is ignored\./.exec(feedback)?.[1]?.split(', ') ?? [];
      expect(kept.length).toBeGreaterThan(0);
      const firstInput = ((replies[0]!['content'] as Array<{ type: string; input?: Record<string, unknown> }>).find((b) => b.type === 'tool_use')?.input ?? {});
      for (const key of kept) expect((run.output as Record<string, unknown>)[key]).toEqual(firstInput[key]);
      return;
    }
    throw new Error('no seed in 1..30 retried the step once after an invalid input with a field kept');
  });
});
