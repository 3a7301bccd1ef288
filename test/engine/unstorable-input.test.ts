/**
 * A step's input is checked storable before its tool is called: an input the store cannot keep fails the step
 * (`invalid_output`, not retried) with the tool never called. Found by an outside tester: the check came after the
 * tool ran, so a side effect happened with a value no journal could record, and a resume ran the tool again.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';

describe('an input the store cannot keep', () => {
  it('fails its step before the tool is called', async () => {
    const calls: unknown[] = [];
    // The schema's transform makes what the tool gets: here a Map, which JSON would store as {}.
    const pay = defineTool({
      name: 'pay',
      description: 'Pays (a side effect)',
      input: z.object({ amount: z.number().transform((n) => new Map([['amount', n]])) }),
      run: (input) => {
        calls.push(input);
        return { ok: true };
      },
    }) as unknown as AnyTool;
    const engine = createEngine({ store: createMemoryStore(), tools: [pay], clock: new ManualClock({ autoAdvance: true }), model: { baseURL: 'http://127.0.0.1:9', apiKey: 'x' } });
    const def = loadDefinitionFromObject({ id: 'pays', steps: { go: { tool: 'pay', with: { amount: 5 } }, done: { final: true } } }, [pay], 'pays');
    const run = await engine.start(def);
    expect(run.status).toBe('failed');
    expect(run.failure?.message).toBe('the input of pay cannot be stored: $.amount is a Map, which JSON would store as {}');
    expect(calls).toEqual([]);
  });
});
