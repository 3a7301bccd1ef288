/** A run's persisted snapshot: XState's own persisted form, field for field and in its order, with the context kept as it is. */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { compile } from '../../src/compile/machine.js';
import { Workflow } from '../../src/definition/schema.js';
import { persistedSnapshot, restoreActor } from '../../src/engine/persisted.js';
import { resolveBudget } from '../../src/policy/budget.js';

const workflow = Workflow.parse({
  id: 'persisted',
  steps: {
    a: { tool: 'x', next: 'b' },
    b: { tool: 'x', next: 'end' },
    end: { final: true },
  },
});
const zero = { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0 };

describe('persistedSnapshot', () => {
  it('is the JSON text getPersistedSnapshot() gives, at every point of a run', () => {
    const actor = createActor(compile(workflow), { input: { input: { doc: 'text' }, budget: resolveBudget(), at: 1 } }).start();
    const same = () => expect(JSON.stringify(persistedSnapshot(actor))).toBe(JSON.stringify(actor.getPersistedSnapshot()));
    same();
    for (const [i, step] of ['a', 'b'].entries()) {
      actor.send({ type: 'step.run', step, at: 2 + i, projectedTokens: 0, projectedUsd: 0 });
      same();
      actor.send({ type: 'step.done', step, at: 3 + i, output: { n: i }, usage: zero });
      same();
    }
    actor.send({ type: 'final.done', step: 'end', at: 9 });
    expect(actor.getSnapshot().status).toBe('done');
    same();
  });

  it('keeps context objects that look like actor references, which XState would replace, and restores them', () => {
    const lookalike = { sessionId: 's', send: 'x', ref: 'r', xstate$$type: 1, id: 'child' };
    const actor = createActor(compile(workflow), { input: { input: { lookalike }, budget: resolveBudget(), at: 1 } }).start();
    const stored = JSON.parse(JSON.stringify(persistedSnapshot(actor)));
    expect(stored.context.input).toEqual({ lookalike });
    expect(Object.keys(persistedSnapshot(actor) as object)).toEqual(Object.keys(actor.getPersistedSnapshot() as object));
    const restored = restoreActor(compile(workflow), stored).start();
    expect(restored.getSnapshot().context.input).toEqual({ lookalike });
    expect(restored.getSnapshot().value).toEqual({ a: 'ready' });
  });
});
