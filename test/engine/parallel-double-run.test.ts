/**
 * A parallel step whose branch steps complete while the driver is advancing the other active steps: the steps the
 * driver read before an effect sent its result are stale (the completed step still looks `running`), and must not be
 * started again. Found by a randomized tester: three branches (one looping back through a choice, one waiting out a
 * retry backoff in a nested parallel step, one of two steps) ran a completed tool again with the same idempotency key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';

const workflow = {
  id: 'double-run',
  steps: {
    par: {
      parallel: {
        branches: {
          looping: {
            steps: {
              again: { tool: 'ok', with: { n: 1 } },
              back: { choice: [{ when: '{% $steps.again.visit < 3 %}', next: 'again' }, { next: 'a_end' }] },
              a_end: { tool: 'ok', with: { n: 1 } },
            },
          },
          retrying: { steps: { inner: { parallel: { branches: { x: { steps: { first_fails: { tool: 'maybe_fail', with: { n: 1 } } } } } } } } },
          plain: { steps: { once: { tool: 'maybe_fail', with: { n: 1 } }, after: { tool: 'ok', with: { n: 1 } } } },
        },
      },
    },
    done: { final: true, output: '{% $steps.par.output %}' },
  },
};

function setup(calls: string[]) {
  const ok = defineTool({
    name: 'ok',
    description: 'records its call',
    input: z.object({ n: z.number() }),
    run: ({ n }, ctx) => {
      calls.push(ctx.idempotencyKey);
      return { n };
    },
  });
  // Fails the first attempt of step first_fails (retryable), so its branch waits out a backoff.
  const maybeFail = defineTool({
    name: 'maybe_fail',
    description: 'fails attempt 1 of first_fails',
    input: z.object({ n: z.number() }),
    run: ({ n }, ctx) => {
      calls.push(ctx.idempotencyKey);
      if (ctx.idempotencyKey.endsWith(':first_fails:1:1')) throw new Error('first attempt fails');
      return { n };
    },
  });
  const tools = [ok, maybeFail];
  return { tools, definition: loadDefinitionFromObject(workflow, tools, 'double-run') };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const stores: Record<string, () => Store> = {
  memory: () => createMemoryStore(),
  sqlite: () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-double-run-'));
    dirs.push(dir);
    return createSqliteStore({ path: join(dir, 'runs.db') });
  },
};

describe.each(Object.keys(stores))('parallel branches completing while the driver advances their siblings (%s)', (name) => {
  it('runs every attempt once, and journals each attempt started once and completed once', async () => {
    const calls: string[] = [];
    const { tools, definition } = setup(calls);
    const store = stores[name]!();
    try {
      const engine = createEngine({ store, tools, clock: new ManualClock({ autoAdvance: true }), model: { baseURL: 'http://127.0.0.1:9', apiKey: 'x', maxRetries: 0 } });
      const view = await engine.start(definition, { runId: 'r1' });
      expect(view.status).toBe('done');
      expect(view.output).toEqual({ looping: { n: 1 }, retrying: { x: { n: 1 } }, plain: { n: 1 } });

      // One call per idempotency key: again runs on visits 1..3, first_fails twice (its retry), the rest once.
      expect([...calls].sort()).toEqual(
        ['r1:again:1:1', 'r1:again:2:1', 'r1:again:3:1', 'r1:a_end:1:1', 'r1:first_fails:1:1', 'r1:first_fails:1:2', 'r1:once:1:1', 'r1:after:1:1'].sort(),
      );
      const journal = await engine.journal('r1');
      const entries = (event: string) => journal.filter((e) => e.event === event && e.step !== 'par' && e.step !== 'inner').map((e) => `${e.step}:${e.visit}:${e.attempt}`);
      const started = entries('started');
      const completed = entries('completed');
      expect(new Set(started).size).toBe(started.length);
      expect(new Set(completed).size).toBe(completed.length);
      // Every completed attempt was started, none completed twice (no `completed` of an attempt 0).
      expect([...completed].sort()).toEqual(['again:1:1', 'again:2:1', 'again:3:1', 'a_end:1:1', 'first_fails:1:2', 'once:1:1', 'after:1:1'].sort());
      for (const key of completed) expect(started).toContain(key);
      expect(journal.some((e) => e.event === 'started' && (e.data as { rerun?: boolean } | undefined)?.rerun === true)).toBe(false);
    } finally {
      await store.close();
    }
  });
});
