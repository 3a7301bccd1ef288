/**
 * `validate`'s worst case over child runs: a map counts its body's worst case
 * per item, times the items (`maxItems`, else the input schema's `maxItems`),
 * times the runs an item may take; a workflow step with a budget slice counts
 * the slice. Checks of the map body: its routes stay inside it.
 */
import { describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { worstCaseTokens } from '../../src/policy/worst-case.js';
import { z } from 'zod';
import { defineTool } from '../../src/tools/define.js';

const note = defineTool({ name: 'note', description: 'Writes a note', input: z.object({ text: z.string() }), run: (input) => input });
const body = { write: { claude: { tool: 'note', prompt: 'Write a note.', maxTokens: 100 }, retry: { maxAttempts: 1 } } };
const wf = (map: Record<string, unknown>, input?: Record<string, unknown>) =>
  loadDefinitionFromObject({ id: 'm', ...(input ? { input } : {}), steps: { each: { map: { items: '{% $input.lines %}', steps: body, ...map } }, done: { final: true } } }, [note], 'm').workflow;

describe('worst case of child runs', () => {
  it('a map counts its body per item: maxItems, else the input schema, times the runs per item', () => {
    const one = worstCaseTokens(wf({ maxItems: 1 })).tokens;
    expect(one).toBeGreaterThan(100);
    expect(worstCaseTokens(wf({ maxItems: 7 })).tokens).toBe(7 * one);
    expect(worstCaseTokens(wf({ maxItems: 7, retry: { maxAttempts: 2 } })).tokens).toBe(14 * one);
    expect(worstCaseTokens(wf({}, { type: 'object', properties: { lines: { type: 'array', maxItems: 5 } } })).tokens).toBe(5 * one);
    expect(worstCaseTokens(wf({})).tokens).toBe(one);
  });

  it('an item\'s model step is bounded as validate bounds the same step alone: every retry with its feedback', () => {
    const retried = { write: { ...body.write, retry: { maxAttempts: 3 } } };
    const alone = worstCaseTokens(loadDefinitionFromObject({ id: 's', steps: { ...retried, done: { final: true } } }, [note], 's').workflow);
    const item = worstCaseTokens(wf({ maxItems: 1, steps: retried }));
    expect(alone.steps[0]!.feedbackTokens).toBeGreaterThan(0);
    expect(item.tokens).toBe(alone.tokens);
  });

  it('a workflow step with a budget slice counts the slice', () => {
    const workflow = loadDefinitionFromObject(
      { id: 'p', steps: { sub: { workflow: { id: 'other', budget: { tokens: 1234 } } }, done: { final: true } } },
      [],
      'p',
    ).workflow;
    expect(worstCaseTokens(workflow).tokens).toBe(1234);
  });

  it('rejects a body route that leaves the body, and a start that is not a body step', () => {
    expect(() => wf({ steps: { write: { ...body.write, next: 'done' } } })).toThrow(/"done" is not a step of the map body/);
    expect(() => wf({ start: 'nope' })).toThrow(/no body step "nope"/);
  });
});
