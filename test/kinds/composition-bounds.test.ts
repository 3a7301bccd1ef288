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

describe('worst case of a map body reading its item', () => {
  const check = (context: Record<string, unknown>) => ({
    write: { claude: { tool: 'note', prompt: 'Check the line.', maxTokens: 100, context }, retry: { maxAttempts: 1 } },
  });
  const lines = (item: Record<string, unknown>) => ({
    type: 'object',
    properties: { invoice: { type: 'string', maxLength: 20 }, notes: { type: 'string' }, lines: { type: 'array', maxItems: 3, items: item } },
  });
  const sized = { type: 'object', additionalProperties: false, properties: { sku: { type: 'string', maxLength: 10 }, qty: { type: 'number' } } };

  it('names an unbounded field of the item schema, with the map and body step', () => {
    const item = { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'number' } } };
    const bound = worstCaseTokens(wf({ as: 'line', steps: check({ sku: '{% $input.line.sku %}' }) }, lines(item)));
    expect(bound.bounded).toBe(false);
    expect(bound.unbounded).toEqual(['each: write: $input.line.sku (a string without maxLength)']);
  });

  it('sizes the item\'s bounded fields from the item schema, per item', () => {
    const short = worstCaseTokens(wf({ as: 'line', steps: check({ sku: '{% $input.line.sku %}' }) }, lines(sized)));
    const long = worstCaseTokens(wf({ as: 'line', steps: check({ sku: '{% $input.line.sku %}' }) }, lines({ ...sized, properties: { ...sized.properties, sku: { type: 'string', maxLength: 110 } } })));
    expect(short.bounded, short.unbounded.join('; ')).toBe(true);
    // 100 more characters, at most two tokens each, in each of the 3 items.
    expect(long.tokens - short.tokens).toBe(3 * 200);
    const whole = worstCaseTokens(wf({ as: 'line', steps: check({ line: '{% $input.line %}', index: '{% $input.index %}' }) }, lines(sized)));
    expect(whole.bounded, whole.unbounded.join('; ')).toBe(true);
  });

  it('sizes map.context values from what they reference, and names the unbounded ones', () => {
    const body = check({ invoice: '{% $input.invoice %}', notes: '{% $input.notes %}' });
    const bound = worstCaseTokens(wf({ as: 'line', context: { invoice: '{% $input.invoice %}', notes: '{% $input.notes %}' }, steps: body }, lines(sized)));
    expect(bound.unbounded).toEqual(['each: write: $input.notes (a string without maxLength)']);
    const constant = worstCaseTokens(wf({ context: { invoice: 'INV-1', limits: { max: 3 } }, steps: check({ invoice: '{% $input.invoice %}', max: '{% $input.limits.max %}' }) }, lines(sized)));
    expect(constant.bounded, constant.unbounded.join('; ')).toBe(true);
    const computed = worstCaseTokens(wf({ context: { invoice: '{% $uppercase($input.invoice) %}' }, steps: check({ invoice: '{% $input.invoice %}' }) }, lines(sized)));
    expect(computed.bounded).toBe(false);
    expect(computed.unbounded[0]).toMatch(/^each: write: \$input\.invoice /);
  });

  it('an item read from an array without an item schema is unbounded', () => {
    const bound = worstCaseTokens(wf({ steps: check({ item: '{% $input.item %}' }) }, { type: 'object', properties: { lines: { type: 'array', maxItems: 2 } } }));
    expect(bound.bounded).toBe(false);
    expect(bound.unbounded[0]).toMatch(/^each: write: \$input\.item /);
  });
});
