/**
 * A map's warm-up (the first item runs alone until its first model call, so the
 * shared prompt prefix is written once before the others read it) is kept only
 * for a body that calls the model somewhere, looked for through the real
 * engine on a real SQLite file: in the body's parallel branches and nested map
 * bodies, and in the child definitions its `workflow` steps start (by file or
 * by id), and theirs. A body whose sub-workflows make no model call runs its
 * items concurrently from the start: each item holds in a tool until the test
 * has seen them all in flight.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';
import { yaml } from '../definition/helpers.js';

/** Calls of `hold` in flight now, and the most at once. */
let inFlight = 0;
let peak = 0;
/** Resolves the test's wait once `wanted` calls of `hold` are in flight. */
let wanted = Infinity;
let reached: () => void = () => {};
/** Released by the test: every call of `hold` waits for it. */
let release: () => void = () => {};
let released = Promise.resolve();
const hold = defineTool({
  name: 'hold',
  description: 'Holds an item until the test releases it',
  input: z.object({ index: z.number() }),
  run: async ({ index }) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    if (inFlight >= wanted) reached();
    await released;
    inFlight--;
    return { index };
  },
});
const note = defineTool({ name: 'note', description: 'Writes a note', input: z.object({ text: z.string() }), run: (input) => input });
const tools = [hold, note];

/** A child by id that calls the model. */
const summarizer = loadDefinitionFromObject(
  {
    id: 'summarizer',
    steps: {
      sum: { claude: { tool: 'note', prompt: 'Write a note about the text.', context: { text: '{% $input.text %}' }, maxTokens: 200 } },
      done: { final: true, output: '{% $steps.sum.output %}' },
    },
  },
  tools,
  'summarizer',
);

let dir: string | undefined;
let emu: Emulator | undefined;
const stores: Store[] = [];
/** The run a test started and may not have seen end (it ends once released). */
let pending: Promise<unknown> | undefined;
afterEach(async () => {
  release();
  await pending?.catch(() => {});
  pending = undefined;
  for (const s of stores.splice(0)) await s.close();
  await emu?.close();
  emu = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  inFlight = 0;
  peak = 0;
  wanted = Infinity;
  released = Promise.resolve();
});

/** Child definition files, none of which calls the model but `via-id.yaml`, whose child by id does. */
function files(): string {
  dir = mkdtempSync(join(tmpdir(), 'stepwise-warm-up-'));
  writeFileSync(join(dir, 'leaf.yaml'), yaml('id: leaf', 'steps:', '  done: { final: true, output: leaf }'));
  // Starts itself (behind a choice: a cycle a run leaves) while d > 0, then leaf.yaml.
  writeFileSync(
    join(dir, 'relay.yaml'),
    yaml(
      'id: relay',
      'input: { type: object, properties: { d: { type: number } } }',
      'steps:',
      '  go:',
      '    choice:',
      '      - when: "{% $input.d > 0 %}"',
      '        next: again',
      '      - next: leaf',
      '  again: { workflow: { file: relay.yaml, input: { d: "{% $input.d - 1 %}" } }, next: done }',
      '  leaf: { workflow: { file: leaf.yaml }, next: done }',
      '  done: { final: true, output: relayed }',
    ),
  );
  writeFileSync(join(dir, 'via-id.yaml'), yaml('id: via-id', 'steps:', '  sub: { workflow: { id: summarizer, input: { text: hello } }, next: done }', '  done: { final: true, output: 1 }'));
  return dir;
}

async function engine(): Promise<Engine> {
  emu ??= await startEmulator({ seed: 1 });
  const store = createSqliteStore({ path: join(dir!, 'runs.db') });
  stores.push(store);
  return createEngine({ store, tools, workflows: [summarizer], model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS }, clock: new ManualClock({ autoAdvance: true }) });
}

/** A map over three items whose body is `steps`, defined as if in `parent.yaml` beside the child files. */
const mapOver = (at: string, steps: Record<string, unknown>) =>
  loadDefinitionFromObject(
    {
      id: 'parent',
      steps: {
        each: { map: { items: '{% [0, 1, 2] %}', maxConcurrency: 3, steps }, next: 'done' },
        done: { final: true, output: '{% $count($steps.each.output) %}' },
      },
    },
    tools,
    join(at, 'parent.yaml'),
  );

const held = { held: { tool: 'hold', with: { index: '{% $input.item %}' } } };

/** Starts `def` and waits until all three items hold at once, then releases them. */
async function allAtOnce(e: Engine, def: ReturnType<typeof mapOver>) {
  released = new Promise<void>((resolve) => (release = resolve));
  const all = new Promise<void>((resolve) => (reached = resolve));
  wanted = 3;
  const started = e.start(def);
  pending = started;
  await all;
  expect(inFlight).toBe(3);
  release();
  const run = await started;
  expect(run.status, run.failure?.message).toBe('done');
  expect(run.output).toBe(3);
  expect(peak).toBe(3);
  return run;
}

describe('map warm-up', () => {
  it('a body whose sub-workflows (by file, and theirs, a cycle among them) make no model call runs every item at once from the start', async () => {
    const at = files();
    const e = await engine();
    const run = await allAtOnce(e, mapOver(at, { sub: { workflow: { file: 'relay.yaml', input: { d: 2 } } }, ...held }));
    // The items did start their sub-workflows, and those theirs.
    const items = await e.store.list({ parentId: run.runId });
    expect(items).toHaveLength(3);
    const [relay] = await e.store.list({ parentId: items[0]!.id });
    expect(relay?.workflow).toBe('relay');
    expect(relay?.output).toBe('relayed');
  });

  it('a body whose nested map is tool-only runs every item at once from the start', async () => {
    const at = files();
    const e = await engine();
    await allAtOnce(e, mapOver(at, { inner: { map: { items: '{% [$input.item] %}', steps: held } } }));
  });

  /** Whether the first item's tree made its first model call before any other item started. */
  async function warmedFirst(e: Engine, def: ReturnType<typeof mapOver>): Promise<boolean> {
    const commits: Array<{ runId: string; tokens: number }> = [];
    e.subscribe((view) => commits.push({ runId: view.runId, tokens: view.usage.totalTokens }));
    const run = await e.start(def);
    expect(run.status, run.failure?.message).toBe('done');
    expect(run.usage.totalTokens).toBeGreaterThan(0);
    const items = await e.store.list({ parentId: run.runId });
    const first = items.find((c) => c.options.parent?.index === 0)!.id;
    // The first item's run and every run below it.
    const tree = new Set([first]);
    for (const id of tree) for (const child of await e.store.list({ parentId: id })) tree.add(child.id);
    const warmAt = commits.findIndex((c) => tree.has(c.runId) && c.tokens > 0);
    const otherAt = commits.findIndex((c) => !tree.has(c.runId) && c.runId !== run.runId);
    expect(warmAt).toBeGreaterThanOrEqual(0);
    expect(otherAt).toBeGreaterThanOrEqual(0);
    return otherAt > warmAt;
  }

  it('a body whose sub-workflow starts a child that calls the model keeps the warm-up', async () => {
    const at = files();
    const e = await engine();
    expect(await warmedFirst(e, mapOver(at, { sub: { workflow: { file: 'via-id.yaml' } } }))).toBe(true);
  });

  it('a body whose parallel branch calls the model keeps the warm-up', async () => {
    const at = files();
    const e = await engine();
    const body = {
      both: {
        parallel: {
          branches: {
            a: { steps: { write: { claude: { tool: 'note', prompt: 'Write a note about the item.', context: { item: '{% $input.item %}' }, maxTokens: 200 } } } },
            b: { steps: { leaf: { workflow: { file: 'leaf.yaml' } } } },
          },
        },
      },
    };
    expect(await warmedFirst(e, mapOver(at, body))).toBe(true);
  });
});
