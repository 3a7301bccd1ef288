/**
 * The workflow deadline against effects in flight, through the real engine on
 * a manual clock: when the deadline passes while a tool call (or a child run)
 * is in flight, the drive does not wait for it to settle. It aborts the step
 * (its attempt's signal, as a sibling branch's failure does), fails the run
 * with kind `deadline` at the deadline, and charges what was spent: a child
 * run's spend, so the journal still sums to the run's usage.
 * The blocking tool waits on a promise the test holds; every assertion is
 * made before it is released.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { JournalEntry } from '../../src/run/types.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-deadline-race-'));
let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 1 });
});
afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `block` runs until released; it honours its signal unless its input says `deaf`. `note` returns its input. */
function tools() {
  const calls: string[] = [];
  const aborted: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const block = defineTool({
    name: 'block',
    description: 'Runs until released or aborted',
    input: z.object({ name: z.string(), deaf: z.boolean().optional() }),
    run: ({ name, deaf }, { signal }) =>
      new Promise((resolve, reject) => {
        calls.push(name);
        if (!deaf) signal.addEventListener('abort', () => (aborted.push(name), reject(new Error('aborted'))), { once: true });
        void released.then(() => resolve({ slow: name }));
      }),
  });
  const note = defineTool({ name: 'note', description: 'Record a short note about the input', input: z.object({ text: z.string() }), run: (input) => input });
  return { list: [block, note], calls, aborted, release };
}

const stores: Store[] = [];
const releases: Array<() => void> = [];
afterEach(async () => {
  for (const release of releases.splice(0)) release();
  for (const s of stores.splice(0)) await s.close();
});
let dbs = 0;

function engineOn(t: ReturnType<typeof tools>, workflows: Parameters<typeof createEngine>[0]['workflows'] = []): { engine: Engine; clock: ManualClock } {
  releases.push(t.release);
  const clock = new ManualClock();
  const store = createSqliteStore({ path: join(dir, `runs-${++dbs}.db`) });
  stores.push(store);
  const model = { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS };
  return { engine: createEngine({ store, tools: t.list, model, clock, workflows }), clock };
}

const define = (t: ReturnType<typeof tools>, workflow: Record<string, unknown>) => loadDefinitionFromObject(workflow, t.list, String(workflow['id']));

/** Polls `check` every few real milliseconds (the engine clock does not move); fails naming `what` if it never holds. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`never happened: ${what}`);
}

/** What `started` ends with, which must come while the blocked tool is still held (not when the test lets it go). */
async function ended<T>(started: Promise<T>): Promise<T> {
  let settled = false;
  void started.then(
    () => (settled = true),
    () => (settled = true),
  );
  await until(() => settled, 'the run ended at the deadline');
  return started;
}

/** The journal's usage, summed: what the run was charged, if the journal accounts for all of it. */
const journalTokens = (journal: readonly JournalEntry[]) => journal.reduce((sum, e) => sum + (e.usage?.totalTokens ?? 0), 0);

describe('the deadline passes while an effect is in flight', () => {
  it('a tool call in flight is aborted at the deadline and the run fails with kind deadline', async () => {
    const t = tools();
    const { engine, clock } = engineOn(t);
    const started = engine.start(define(t, { id: 'slow-call', deadline: '2s', steps: { slow: { tool: 'block', with: { name: 'a' }, next: 'done' }, done: { final: true } } }));
    await until(() => t.calls.includes('a'), 'the tool was called');
    const at = clock.now() + 2000;
    clock.advance(2000);
    const run = await ended(started);
    expect(run).toMatchObject({ status: 'failed', resumable: false, failure: { kind: 'deadline', step: 'slow' } });
    expect(t.aborted).toEqual(['a']);
    const failed = (await engine.journal(run.runId)).filter((e) => e.event === 'failed');
    expect(failed.map((e) => [e.step, e.error?.kind, e.at])).toEqual([
      ['slow', 'cancelled', at],
      ['slow', 'deadline', at],
    ]);
    expect(failed[0]!.error?.message).toContain('the workflow deadline passed');
  });

  it('a tool that ignores its signal does not hold the run past the deadline', async () => {
    const t = tools();
    const { engine, clock } = engineOn(t);
    const started = engine.start(define(t, { id: 'deaf-call', deadline: '2s', steps: { slow: { tool: 'block', with: { name: 'deaf', deaf: true }, next: 'done' }, done: { final: true } } }));
    await until(() => t.calls.includes('deaf'), 'the tool was called');
    clock.advance(2000);
    expect(await ended(started)).toMatchObject({ status: 'failed', failure: { kind: 'deadline' } });
    expect(t.aborted).toEqual([]);
  });

  it('parallel branches: every call in flight is aborted; the deadline fails the run once', async () => {
    const t = tools();
    const { engine, clock } = engineOn(t);
    const definition = define(t, {
      id: 'two-slow',
      deadline: '2s',
      steps: {
        both: {
          parallel: { branches: { left: { steps: { l: { tool: 'block', with: { name: 'l' } } } }, right: { steps: { r: { tool: 'block', with: { name: 'r' } } } } } },
          next: 'done',
        },
        done: { final: true },
      },
    });
    const started = engine.start(definition);
    await until(() => t.calls.length === 2, 'both tools were called');
    clock.advance(2000);
    const run = await ended(started);
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'deadline' } });
    expect(t.aborted.sort()).toEqual(['l', 'r']);
    const failed = (await engine.journal(run.runId)).filter((e) => e.event === 'failed');
    expect(failed.filter((e) => e.error?.kind === 'cancelled').map((e) => e.step).sort()).toEqual(['l', 'r']);
    expect(failed.filter((e) => e.error?.kind === 'deadline')).toHaveLength(1);
  });

  it('a child run in flight: it stops, the parent is charged what it spent and fails with deadline; the journal sums to the usage', async () => {
    const t = tools();
    const child = define(t, {
      id: 'child',
      steps: {
        think: { claude: { tool: 'note', prompt: 'Write a short note.' }, next: 'slow' },
        slow: { tool: 'block', with: { name: 'child' }, next: 'done' },
        done: { final: true },
      },
    });
    const parent = define(t, { id: 'parent', deadline: '2s', steps: { sub: { workflow: { id: 'child' }, next: 'done' }, done: { final: true } } });
    const { engine, clock } = engineOn(t, [child]);
    const started = engine.start(parent);
    await until(() => t.calls.includes('child'), 'the child\'s tool was called');
    clock.advance(2000);
    const run = await ended(started);
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'deadline', step: 'sub' } });
    expect(t.aborted).toEqual(['child']);

    const [childRun] = await engine.store.list({ parentId: run.runId });
    expect(childRun!.usage.totalTokens).toBeGreaterThan(0);
    expect(childRun!.status).toBe('cancelled');
    expect(run.usage.totalTokens).toBe(childRun!.usage.totalTokens);
    const journal = await engine.journal(run.runId);
    expect(journal.find((e) => e.step === 'sub' && e.error?.kind === 'cancelled')).toMatchObject({ data: { aborted: true, charged: { totalTokens: childRun!.usage.totalTokens } } });
    expect(journalTokens(journal)).toBe(run.usage.totalTokens);
  });
});
