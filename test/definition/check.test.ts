import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDefinition, loadDefinitionText } from '../../src/definition/load.js';
import { formatIssue } from '../../src/errors.js';
import { errorsOf, issuesOf, yaml } from './helpers.js';

/** Tools `lookup` (input { id: string }, no output schema) and `extract`. */
const toolModule = fileURLToPath(new URL('fixtures/tools/lookup.ts', import.meta.url));

describe('checkWorkflow', () => {
  it('accepts a sound workflow without warnings', () => {
    expect(
      issuesOf(
        yaml(
          'id: flow',
          'steps:',
          '  find: { tool: lookup, onError: failed }',
          '  fill: { claude: { tool: extract, prompt: Go., context: { a: "{% $steps.find.output.name %}" } } }',
          '  route:',
          '    choice:',
          '      - { when: "$steps.fill.output.total > 10", next: approve }',
          '      - { next: done }',
          '  approve: { wait: { on: { APPROVE: done }, timeout: 1h, onTimeout: failed } }',
          '  done: { final: true }',
          '  failed: { final: true }',
        ),
      ),
    ).toEqual({ errors: [], warnings: [] });
  });

  it('names a missing target with a suggestion, wherever it is', () => {
    expect(
      errorsOf(
        yaml(
          'id: flow',
          'start: fnd',
          'steps:',
          '  find: { tool: lookup, next: dnoe, onError: failed }',
          '  route: { choice: [{ when: "true", next: don }, { next: elsewhere }] }',
          '  wait: { wait: { on: { GO: dome }, timeout: 1s, onTimeout: faled } }',
          '  done: { final: true }',
        ),
      ),
    ).toEqual([
      'flow.yaml:2:8: start: no step named "fnd"; did you mean "find"?',
      'flow.yaml:4:31: steps.find.next: no step named "dnoe"; did you mean "done"?',
      'flow.yaml:4:46: steps.find.onError: no step named "failed"; steps are: find, route, wait, done',
      'flow.yaml:5:43: steps.route.choice[0].next: no step named "don"; did you mean "done"?',
      'flow.yaml:5:58: steps.route.choice[1].next: no step named "elsewhere"; steps are: find, route, wait, done',
      'flow.yaml:6:29: steps.wait.wait.on.GO: no step named "dome"; did you mean "done"?',
      'flow.yaml:6:61: steps.wait.wait.onTimeout: no step named "faled"; steps are: find, route, wait, done',
    ].sort(byLine));
  });

  it('names a branch start that is no step of its branch once (it was reported twice)', () => {
    expect(
      errorsOf(yaml('id: w', 'steps:', '  p:', '    parallel:', '      branches:', '        one:', '          start: nostart', '          steps:', '            i: { tool: echo }', '    next: done', '  done: { final: true }')),
    ).toEqual(['flow.yaml:7:18: steps.p.parallel.branches.one.start: no step named "nostart" in branch "one"; its steps are: i']);
  });

  it('reports a loop with no exit, naming its steps', () => {
    expect(
      errorsOf(
        yaml(
          'id: flow',
          'steps:',
          '  start: { tool: lookup, next: ask }',
          '  ask: { claude: { tool: extract, prompt: Again. }, next: check }',
          '  check: { tool: lookup, next: ask }',
          '  done: { final: true }',
        ),
      ),
    ).toEqual([
      'flow.yaml:4:8: steps.ask: steps "ask", "check" form a loop with no exit: none of them can reach a final step; route one of them (a choice branch, onError, or a wait event) to a step that ends the run',
    ]);
  });

  it('accepts a loop with an exit', () => {
    expect(
      errorsOf(yaml('id: flow', 'steps:', '  ask: { tool: lookup }', '  check: { choice: [{ when: "$input.done", next: done }, { next: ask }] }', '  done: { final: true }')),
    ).toEqual([]);
  });

  it('requires a final step', () => {
    expect(errorsOf(yaml('id: flow', 'steps:', '  a: { tool: x, next: a }'))).toEqual([
      'flow.yaml:2:1: steps: no final step, so a run can never complete; add one, e.g. `done: { final: true }`',
    ]);
  });

  it('sends a step without next to the next one listed, and rejects it last', () => {
    expect(errorsOf(yaml('id: flow', 'steps:', '  done: { final: true }', '  find: { tool: lookup }'))).toEqual([
      'flow.yaml:4:9: steps.find: step "find" has no next and is listed last, so nothing follows it; add next, or end the workflow with a final step',
    ]);
  });

  it('checks waits and their timeouts', () => {
    const { errors, warnings } = issuesOf(
      yaml('id: flow', 'steps:', '  a: { wait: { on: { GO: b }, onTimeout: done } }', '  b: { wait: { on: { GO: done }, timeout: 1h } }', '  done: { final: true }'),
    );
    expect(errors).toEqual(['flow.yaml:3:42: steps.a.wait.onTimeout: onTimeout needs a timeout; add wait.timeout, e.g. 72h']);
    expect(warnings).toEqual([
      'flow.yaml:4:43: steps.b.wait.timeout: timeout without onTimeout: the run fails when the wait times out; name a step in wait.onTimeout to route it',
    ]);
  });

  it('warns about unreachable steps and choices without a default', () => {
    const { errors, warnings } = issuesOf(
      yaml(
        'id: flow',
        'steps:',
        '  route:',
        '    choice:',
        '      - { when: "$input.x", next: done }',
        '  orphan: { tool: lookup, next: done }',
        '  done: { final: true }',
      ),
    );
    expect(errors).toEqual([]);
    expect(warnings).toEqual([
      'flow.yaml:5:9: steps.route.choice[0]: no default branch: when no condition holds the run fails; add a last branch without when',
      'flow.yaml:6:11: steps.orphan: step "orphan" is never reached from the start step "route"',
    ]);
  });

  it('reports expression syntax errors where the parser stopped, inside the field', () => {
    const errors = errorsOf(
      yaml(
        'id: flow',
        'steps:',
        '  find: { tool: lookup, with: { id: "{% $input.id + %}" } }',
        '  route: { choice: [{ when: "$x >", next: done }, { next: done }] }',
        '  done: { final: true, output: { total: "{% $sum( %}" } }',
      ),
    );
    expect(errors.map((e) => e.split(': ').slice(0, 2).join(': '))).toEqual([
      'flow.yaml:3:51: steps.find.with.id',
      'flow.yaml:4:33: steps.route.choice[0].when',
      'flow.yaml:5:49: steps.done.output.total',
    ]);
  });
});

function byLine(a: string, b: string): number {
  const [, la = 0, ca = 0] = a.split(':').map(Number);
  const [, lb = 0, cb = 0] = b.split(':').map(Number);
  return la - lb || ca - cb;
}

describe('context values that pass a whole output on', () => {
  const flow = (context: string, analyze = '{ type: object, properties: { verdict: { type: string, maxLength: 40 } }, additionalProperties: false }') =>
    yaml(
      'id: flow',
      'steps:',
      '  find: { tool: lookup, with: { id: x } }',
      `  judge: { analyze: { prompt: Judge., schema: ${analyze} } }`,
      `  fill: { claude: { tool: extract, prompt: Go., context: ${context} } }`,
      '  done: { final: true }',
    );

  it('warns when a context value is a whole tool output, whose size nothing bounds, without maxTokens (once the tools are loaded)', async () => {
    const loaded = await loadDefinitionText(`tools: ${toolModule}\n${flow('{ company: "{% $steps.find.output %}" }')}`, 'flow.yaml');
    expect(loaded.warnings.map(formatIssue)).toEqual([
      'flow.yaml:6:69: steps.fill.claude.context.company: "{% $steps.find.output %}" puts the whole output of step "find" in the prompt, and nothing bounds its size (tool lookup declares no output schema); pick the fields the step needs ($steps.find.output.<field>) or bound it: { value: "{% $steps.find.output %}", maxTokens: 500 }',
    ]);
  });

  it('does not warn for a whole tool output the tool\'s output schema bounds: the invoice-line-items example, a map body', async () => {
    const loaded = await loadDefinition(fileURLToPath(new URL('../../definitions/invoice-line-items.yaml', import.meta.url)));
    expect(loaded.warnings).toEqual([]);
  });

  it('warns for an analyze output whose schema is unbounded, not for one bounded by maxLength and maxItems', () => {
    expect(issuesOf(flow('{ verdict: "{% $steps.judge.output %}" }')).warnings).toEqual([]);
    expect(issuesOf(flow('{ verdict: "{% $steps.judge.output %}" }', '{ type: object, properties: { tags: { type: array, items: { type: string, maxLength: 9 } } } }')).warnings).toEqual([
      expect.stringContaining('steps.fill.claude.context.verdict: "{% $steps.judge.output %}" puts the whole output of step "judge" in the prompt, and nothing bounds its size (its schema has a string without maxLength or an array without maxItems)'),
    ]);
  });

  it('does not warn for a field of an output, or a whole output with maxTokens', () => {
    expect(issuesOf(flow('{ name: "{% $steps.find.output.name %}" }')).warnings).toEqual([]);
    expect(issuesOf(flow('{ company: { value: "{% $steps.find.output %}", maxTokens: 300 } }')).warnings).toEqual([]);
  });
});
