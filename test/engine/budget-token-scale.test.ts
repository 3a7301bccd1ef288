/**
 * Budgets across concurrent model calls against a server whose tokenizer counts
 * more (or less) than the local estimate: the emulator's `tokenScale`, through
 * the real engine, SDK and HTTP, on a SQLite file store, time on a ManualClock
 * (found by an outside tester: a parallel step billed 1,522 tokens against a
 * 1,500-token budget, an 8-item map 2,562 against 2,500). However many
 * `parallel` branches, `map` items, parallel steps inside map items and
 * `workflow` children call the model at once, the run's billed tokens stay
 * within stopAt × budget: a call made before the runs sharing the budget have
 * learned the server's ratio asks `count_tokens` when another such call is in
 * flight, that count (or any reply) teaches the ratio to all of them, and the
 * calls in flight on an estimate are raised to it; a `pause_turn` continuation
 * of a child run is reserved beside its siblings' calls. A seeded sweep over
 * shape, concurrency, scale and budget checks the same.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import type { RunView } from '../../src/engine/view.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { seededRandom } from '../../src/util/random.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';
import { recordNote } from '../guards/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-budget-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STOP_AT = 0.9;
const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
const noteStep = (name: string) => ({ claude: { tool: 'record_note', prompt: `Write note ${name.toUpperCase()} about the weather in some detail please.`, maxTokens: 200 } });

type Shape = 'parallel' | 'map' | 'nested' | 'children';

const item = { claude: { ...noteStep('item').claude, context: { item: '{% $input.item %}' } } };
const pair = { parallel: { branches: { left: { steps: { left_note: item } }, right: { steps: { right_note: item } } } } };
/** The child run a `workflow` step starts (sharing its parent's budget): a parallel step of two calls. */
const child = loadDefinitionFromObject({ id: 'pair', retry: { maxAttempts: 1 }, steps: { both: { ...pair, next: 'done' }, done: { final: true } } }, [recordNote], 'pair.test');

/**
 * `n` model calls at once: `n` parallel branches; a map of `n` items all at once; a map of ⌈n/2⌉ items each a
 * parallel step of two calls; ⌈n/2⌉ parallel branches each a `workflow` step whose child run makes two calls at once.
 */
function workflow(shape: Shape, n: number, tokens: number) {
  const common = { id: `${shape}-${n}`, budget: { tokens, stopAt: STOP_AT }, retry: { maxAttempts: 1 } };
  const done = { final: true, output: '{% $steps.work.output %}' };
  if (shape === 'parallel') {
    const branches = Object.fromEntries(names.slice(0, n).map((name) => [name, { steps: { [`note_${name}`]: noteStep(name) } }]));
    return { ...common, steps: { work: { parallel: { branches }, next: 'done' }, done } };
  }
  if (shape === 'children') {
    const branches = Object.fromEntries(names.slice(0, Math.ceil(n / 2)).map((name) => [name, { steps: { [`sub_${name}`]: { workflow: { id: 'pair', input: { item: name } } } } }]));
    return { ...common, steps: { work: { parallel: { branches }, next: 'done' }, done } };
  }
  const items = shape === 'map' ? n : Math.ceil(n / 2);
  return {
    ...common,
    input: { type: 'object', properties: { items: { type: 'array', items: { type: 'string' } } } },
    steps: { work: { map: { items: '{% $input.items %}', maxConcurrency: items, steps: { note: shape === 'map' ? item : pair } }, next: 'done' }, done },
  };
}

interface Outcome {
  readonly run: RunView;
  readonly limit: number;
  readonly countTokens: number;
  readonly messages: number;
}

async function runShape(shape: Shape, n: number, tokens: number, scale: number, seed: number, faults = ''): Promise<Outcome> {
  const emu = await startEmulator({ seed, tokenScale: scale, faults: `latency=${5 + (seed % 4) * 5}${faults}` });
  const store = createSqliteStore({ path: join(dir, `${shape}-${n}-${tokens}-${scale}-${seed}.db`) });
  try {
    const engine = createEngine({ store, workflows: [child], model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS }, clock: new ManualClock({ autoAdvance: true }) });
    const definition = loadDefinitionFromObject(workflow(shape, n, tokens), [recordNote], `${shape}-${n}.test`);
    const items = names.slice(0, shape === 'map' ? n : Math.ceil(n / 2)).map((name) => `${name} ${seed}`);
    const run = await engine.start(definition, shape === 'parallel' || shape === 'children' ? {} : { input: { items } });
    // The journal sums to what the run was charged (so no spend escaped the count).
    const journal = await engine.journal(run.runId);
    const children = await store.list({ parentId: run.runId });
    const below = (await Promise.all(children.map((c) => engine.journal(c.id)))).flat();
    const sum = (entries: typeof journal) => entries.reduce((t, e) => t + (e.usage?.totalTokens ?? 0), 0);
    expect(sum(journal)).toBe(run.usage.totalTokens);
    if (shape !== 'parallel') expect(sum(below)).toBe(run.usage.totalTokens);
    const stats = emu.stats();
    return { run, limit: Math.floor(STOP_AT * tokens), countTokens: stats.countTokens, messages: stats.messages };
  } finally {
    await store.close();
    await emu.close();
  }
}

describe('budget with a server that counts more than the local estimate, many calls at once', () => {
  it.each([
    ['parallel', 2],
    ['parallel', 3],
    ['map', 2],
    ['map', 3],
    ['nested', 2],
    ['nested', 3],
    ['children', 2],
    ['children', 3],
  ] as const)('%s of 8 at token_scale %d never bills past stopAt × budget', async (shape, scale) => {
    for (const seed of [1, 2, 3]) {
      const { run, limit } = await runShape(shape, 8, 2500, scale, seed);
      expect(run.usage.totalTokens, `seed ${seed}`).toBeLessThanOrEqual(limit);
      // The budget, not the work, ended the run: not every call fitted.
      expect(run.status, `seed ${seed}`).toBe('budget_exhausted');
      expect(run.resumable).toBe(true);
    }
  });

  it('the outside tester\'s reproduction: 5 parallel branches against 1,500 tokens, 8 map items against 2,500, token_scale 2', async () => {
    // They billed 1,522 and 2,562 against limits of 1,350 and 2,250.
    for (const [shape, n, tokens] of [['parallel', 5, 1500], ['map', 8, 2500]] as const) {
      const { run, limit } = await runShape(shape, n, tokens, 2, 1);
      expect(run.usage.totalTokens, shape).toBeLessThanOrEqual(limit);
      expect(run.status, shape).toBe('budget_exhausted');
    }
  });

  it.each(['map', 'children'] as const)('%s: pause_turn continuations of child runs are reserved in the pool they share with their siblings', async (shape) => {
    for (const seed of [1, 2, 3]) {
      const { run, limit } = await runShape(shape, 8, 3000, 2, seed, ',pause_turn=0.6');
      expect(run.usage.totalTokens, `seed ${seed}`).toBeLessThanOrEqual(limit);
      expect(['budget_exhausted', 'failed'], `seed ${seed}`).toContain(run.status);
    }
  });

  it('with room to spare, a map of 8 at token_scale 2 asks count_tokens at most once (the warm-up teaches the ratio to every item)', async () => {
    const { run, countTokens, messages } = await runShape('map', 8, 50_000, 2, 1);
    expect(run.status).toBe('done');
    expect(messages).toBe(8);
    expect(countTokens).toBe(0);
  });

  it('with room to spare, 8 parallel branches at token_scale 2 count only while no reply has shown the ratio', async () => {
    const { run, countTokens, messages } = await runShape('parallel', 8, 50_000, 2, 1);
    expect(run.status).toBe('done');
    expect(messages).toBe(8);
    // The first branch goes on its estimate alone; the others ask until a count or reply taught the ratio.
    expect(countTokens).toBeLessThanOrEqual(1);
  });

  it('property: any shape, concurrency 2–12, token_scale 0.6–3.5 and budget: billed ≤ stopAt × budget, resumable when stopped', async () => {
    const random = seededRandom(20_260_611);
    const scales = [0.6, 1, 1.3, 2, 2.7, 3.5];
    const shapes: Shape[] = ['parallel', 'map', 'nested', 'children'];
    for (let draw = 0; draw < 24; draw++) {
      const shape = shapes[Math.floor(random() * shapes.length)]!;
      const n = 2 + Math.floor(random() * 11);
      const scale = scales[Math.floor(random() * scales.length)]!;
      // One call billed at this scale is at most about 150 × scale input + 200 output: a limit from one call's worth
      // (so a first call made alone never crosses it by itself) to every call's.
      const call = Math.ceil(160 * scale) + 200;
      const tokens = Math.ceil(((1 + random() * (n - 1)) * call) / STOP_AT);
      const seed = 1 + Math.floor(random() * 1000);
      const label = `draw ${draw}: ${shape} of ${n} at ×${scale}, budget ${tokens}, seed ${seed}`;
      const { run, limit } = await runShape(shape, n, tokens, scale, seed);
      expect(run.usage.totalTokens, label).toBeLessThanOrEqual(limit);
      expect(['done', 'budget_exhausted'], label).toContain(run.status);
      if (run.status === 'budget_exhausted') expect(run.resumable, label).toBe(true);
    }
  });
});
