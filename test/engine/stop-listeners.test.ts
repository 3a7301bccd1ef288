/**
 * Many drives waiting on one stop signal (a worker's drain) at once: Node must
 * not warn of a "possible EventTarget memory leak" (each drive used to add its
 * own 'abort' listener to the worker's signal, eleven and more at a worker's
 * default concurrency with map items), and a drain still reaches every drive.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';

const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);
process.on('warning', onWarning);
afterEach(() => {
  warnings.length = 0;
});

const DRIVES = 14;

describe('drives waiting on one stop signal', () => {
  it('add one listener to it, not one each: no MaxListenersExceededWarning, and the drain stops them all', async () => {
    let started = 0;
    let allStarted: () => void = () => {};
    const everyone = new Promise<void>((resolve) => (allStarted = resolve));
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tool = defineTool({
      name: 'hold',
      description: 'Waits for the gate.',
      input: z.object({}),
      run: async () => {
        if (++started === DRIVES) allStarted();
        await gate;
        return { ok: true };
      },
    }) as unknown as AnyTool;
    const definition = loadDefinitionFromObject(
      { id: 'held', steps: { a: { tool: 'hold', with: {} }, b: { tool: 'hold', with: {} }, done: { final: true } } },
      [tool],
      'stop-listeners.test',
    );
    const store = createMemoryStore();
    const engine = createEngine({ store, tools: [tool], clock: new ManualClock({ autoAdvance: true }), model: { apiKey: 'unused' } });
    const runs = await Promise.all(Array.from({ length: DRIVES }, () => engine.start(definition, { input: {}, detach: true })));
    const drain = new AbortController();
    const working = engine.work({ concurrency: DRIVES, pollMs: 1, signal: drain.signal });
    await everyone; // every drive waits on its tool, and on the stop
    drain.abort();
    release();
    await working;
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    // The drain reached every drive: each stopped after its step in flight, with step b not started.
    for (const run of runs) {
      const stored = await store.get(run.runId);
      expect(stored?.status).toBe('running');
      expect(stored?.lease).toBeNull();
    }
    expect(started).toBe(DRIVES);
  });
});
