import { describe, expect, it } from 'vitest';
import { DefinitionError } from '../../src/errors.js';
import { atStart } from '../../src/definition/locate.js';
import { validateWorkflow } from '../../src/definition/validate.js';
import { errorsOf, yaml } from './helpers.js';

describe('validateWorkflow', () => {
  it('suggests the key meant by an unknown key, at the key', () => {
    expect(errorsOf(yaml('id: flow', 'steps:', '  find:', '    tool: lookup', '    nxt: done', '  done: { final: true }'))).toEqual([
      'flow.yaml:5:5: steps.find.nxt: unknown key "nxt"; did you mean "next"?',
    ]);
  });

  it('lists the allowed keys when no key is close', () => {
    expect(errorsOf(yaml('id: flow', 'budget: { tokens: 10, whatever: 1 }', 'steps:', '  done: { final: true }'))).toEqual([
      'flow.yaml:2:23: budget.whatever: unknown key "whatever"; expected one of: tokens, usd, stopAt',
    ]);
  });

  it('says what type was expected and what was found', () => {
    expect(errorsOf(yaml('id: flow', 'maxTokens: lots', 'steps:', '  done: { final: true }'))).toEqual([
      'flow.yaml:2:12: maxTokens: expected a number, got string',
    ]);
    expect(errorsOf(yaml('id: flow', 'steps:', '  a: { tool: lookup, maxVisits: 1.5 }', '  done: { final: true }'))).toEqual([
      'flow.yaml:3:33: steps.a.maxVisits: expected an integer, got 1.5',
    ]);
  });

  it('says a number that is not finite is not (it said "expected a number, got number")', () => {
    expect(errorsOf(yaml('id: inf', 'budget: { tokens: .inf }', 'steps:', '  d: { final: true }'))).toEqual([
      'flow.yaml:2:19: budget.tokens: expected a number, got Infinity, which is not a finite number',
    ]);
  });

  it('reports a missing required field at the object that lacks it', () => {
    expect(errorsOf(yaml('id: flow', 'steps:', '  fill:', '    claude:', '      prompt: Fill it.', '  done: { final: true }'))).toEqual([
      'flow.yaml:4:5: steps.fill.claude.tool: missing required field "tool"',
    ]);
    expect(errorsOf(yaml('steps:', '  done: { final: true }'))).toEqual(['flow.yaml:1:1: id: missing required field "id"']);
  });

  it('asks for a step kind when a step has none', () => {
    expect(errorsOf(yaml('id: flow', 'steps:', '  find:', '    next: done', '  done: { final: true }'))).toEqual([
      'flow.yaml:3:3: steps.find: a step needs one of: claude, analyze, tool, choice, wait, final, parallel, map, workflow',
    ]);
    expect(errorsOf(yaml('id: flow', 'steps:', '  find: { cluade: {}, next: done }', '  done: { final: true }'))).toEqual([
      'flow.yaml:3:9: steps.find: a step needs one of: claude, analyze, tool, choice, wait, final, parallel, map, workflow; did you mean "claude" instead of "cluade"?',
    ]);
  });

  it('names the kinds a step mixes', () => {
    expect(errorsOf(yaml('id: flow', 'steps:', '  find:', '    tool: lookup', '    final: true', '  done: { final: true }'))).toEqual([
      'flow.yaml:5:5: steps.find.final: "final" conflicts with "tool": a step has exactly one of claude, analyze, tool, choice, wait, final, parallel, map, workflow',
    ]);
  });

  it('validates a step against its own kind', () => {
    expect(
      errorsOf(yaml('id: flow', 'steps:', '  route:', '    choice: []', '    next: done', '  wait:', '    wait: { on: { approve: done }, timeout: 5 minutes }', '  done: { final: false }')),
    ).toEqual([
      'flow.yaml:4:13: steps.route.choice: expected at least 1 item(s), got 0',
      'flow.yaml:5:5: steps.route.next: unknown key "next"; expected one of: description, maxVisits, choice; a choice step routes through the next of each branch',
      'flow.yaml:7:19: steps.wait.wait.on.approve: invalid key "approve": expected an event name in UPPER_CASE, e.g. APPROVE',
      'flow.yaml:7:45: steps.wait.wait.timeout: expected a duration such as 500ms, 1s, 5m, 72h or 2d, got "5 minutes"',
      'flow.yaml:8:18: steps.done.final: expected true, got false',
    ]);
  });

  it('explains a value that fits no alternative', () => {
    expect(errorsOf(yaml('id: flow', 'deadline: true', 'tools: 3', 'steps:', '  done: { final: true }'))).toEqual([
      'flow.yaml:2:11: deadline: expected a number or a string, got boolean',
      'flow.yaml:3:8: tools: expected a string or an array, got number',
    ]);
  });

  it('checks step ids and the steps mapping', () => {
    expect(errorsOf(yaml('id: flow', 'steps:', '  "bad id": { final: true }'))).toEqual([
      'flow.yaml:3:3: steps[\"bad id\"]: invalid step id "bad id": use letters, digits, _ and -, starting with a letter or _',
    ]);
    expect(errorsOf(yaml('id: flow', 'steps: {}'))).toEqual(['flow.yaml:2:8: steps: at least one step']);
    expect(errorsOf(yaml('id: flow', 'steps:', '  a: lookup'))).toEqual([
      'flow.yaml:3:6: steps.a: expected a step (an object with one of: claude, analyze, tool, choice, wait, final, parallel, map, workflow), got string',
    ]);
  });

  it('reports every issue, sorted by line', () => {
    const errors = errorsOf(yaml('id: flow', 'steps:', '  a: { tool: "", nxt: b }', '  b: { final: true }', 'budgt: {}'));
    expect(errors.map((e) => e.split(': ')[0])).toEqual(['flow.yaml:3:14', 'flow.yaml:3:18', 'flow.yaml:5:1']);
    expect(errors[0]).toContain('steps.a.tool: must not be empty');
    expect(errors[2]).toContain('unknown key "budgt"; did you mean "budget"?');
  });

  it('rejects what is not a workflow', () => {
    expect(errorsOf('')).toEqual(['flow.yaml:1:1: expected a workflow (an object with id and steps), got nothing (is the file empty?)']);
    expect(() => validateWorkflow([1], atStart, 'x')).toThrow(DefinitionError);
  });

  it('returns the workflow when it is valid', () => {
    const workflow = { id: 'ok', steps: { done: { final: true } } };
    expect(validateWorkflow(workflow, atStart, 'x')).toEqual(workflow);
  });
});
