/**
 * `rerun --from` a `parallel` step or a step inside one of its branches,
 * through the real engine (memory store): the steps before it are kept, the
 * chosen step and what follows run again. From a branch step, the other
 * branches are where they were when the original entered it (a wait there
 * still waits), and the chosen step runs at once.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { rerun } from '../../src/engine/rerun.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { defineTool } from '../../src/tools/define.js';

const called: string[] = [];
const note = defineTool({
  name: 'note',
  description: 'Writes a note',
  input: z.object({ text: z.string() }),
  run: (input) => {
    called.push(input.text);
    return input;
  },
});

const definition = loadDefinitionFromObject(
  {
    id: 'fan',
    steps: {
      first: { tool: 'note', with: { text: 'first' } },
      par: {
        parallel: {
          branches: {
            x: { steps: { x1: { tool: 'note', with: { text: 'x1' } }, x2: { tool: 'note', with: { text: 'x2' } } } },
            y: { steps: { y1: { wait: { on: { GO: 'y2' } } }, y2: { tool: 'note', with: { text: 'y2' } } } },
          },
        },
        next: 'done',
      },
      done: { final: true, output: '{% $steps.par.output %}' },
    },
  },
  [note],
  'fan',
);

async function original() {
  const engine = createEngine({ store: createMemoryStore(), tools: [note], clock: new ManualClock({ autoAdvance: true }) });
  const waiting = await engine.start(definition);
  expect(waiting.status).toBe('waiting');
  const run = await engine.send(waiting.runId, 'GO');
  expect(run.status).toBe('done');
  called.length = 0;
  return { engine, run };
}

describe('rerun inside a parallel step', () => {
  it('from the parallel step: every branch runs again', async () => {
    const { engine, run } = await original();
    const again = await rerun(engine, run.runId, 'par');
    expect(again.status).toBe('waiting');
    expect(called.sort()).toEqual(['x1', 'x2']);
    const done = await engine.send(again.runId, 'GO');
    expect(done.status).toBe('done');
    expect(done.output).toEqual(run.output);
  });

  it('from the first step of a branch: that branch and the others start again', async () => {
    const { engine, run } = await original();
    const again = await rerun(engine, run.runId, 'x1');
    expect(again.status).toBe('waiting');
    expect(called.sort()).toEqual(['x1', 'x2']);
    expect((await engine.send(again.runId, 'GO')).status).toBe('done');
  });

  it('from a later step of a branch: it runs at once, while the other branch still waits where it was', async () => {
    const { engine, run } = await original();
    const again = await rerun(engine, run.runId, 'x2');
    expect(called).toEqual(['x2']);
    expect(again.status).toBe('waiting');
    const done = await engine.send(again.runId, 'GO');
    expect(done.status).toBe('done');
    expect(called).toEqual(['x2', 'y2']);
    expect(done.output).toEqual(run.output);
  });
});
