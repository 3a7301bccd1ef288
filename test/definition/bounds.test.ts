/**
 * Static checks that keep every run bounded and every key usable: cycles of
 * choice steps alone are rejected, `maxVisits` is accepted on every step kind
 * that can be revisited, reserved keys are rejected where they are written,
 * `$steps.<id>` references must name a step, and the graph walks handle a
 * definition of thousands of chained steps.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { worstCaseOf } from '../../src/cli/worst-case.js';
import { checkWorkflow } from '../../src/definition/check.js';
import type { Workflow } from '../../src/definition/schema.js';
import { validateWorkflow } from '../../src/definition/validate.js';
import { parseYaml } from '../../src/definition/yaml.js';
import { loadDefinition, loadDefinitionFromObject } from '../../src/definition/load.js';
import { diagram, stepGraph } from '../../src/observe/diagram.js';
import { errorsOf, issuesOf, yaml } from './helpers.js';

describe('cycles of choice steps', () => {
  it('rejects a cycle that only choice steps form, naming its steps', () => {
    expect(
      errorsOf(
        yaml(
          'id: flow',
          'steps:',
          '  first: { tool: lookup }',
          '  a: { choice: [{ when: "$input.x > 1", next: b }, { next: done }] }',
          '  b: { choice: [{ when: "$input.y > 1", next: a }, { next: done }] }',
          '  done: { final: true }',
        ),
      ),
    ).toEqual([
      'flow.yaml:4:6: steps.a: steps "a", "b" form a cycle of choice steps only: a run would go round it without doing work or waiting, with nothing to bound it; put a work or wait step on the cycle, or route its branches elsewhere',
    ]);
  });

  it('rejects a choice that routes to itself', () => {
    expect(errorsOf(yaml('id: flow', 'steps:', '  a: { choice: [{ when: "$input.x", next: a }, { next: done }] }', '  done: { final: true }'))).toEqual([
      'flow.yaml:3:6: steps.a: steps "a" form a cycle of choice steps only: a run would go round it without doing work or waiting, with nothing to bound it; put a work or wait step on the cycle, or route its branches elsewhere',
    ]);
  });

  it('accepts a cycle that a work or a wait step breaks', () => {
    expect(
      issuesOf(
        yaml(
          'id: flow',
          'steps:',
          '  a: { choice: [{ when: "$input.x > 1", next: w }, { next: done }] }',
          '  w: { wait: { on: { GO: b }, timeout: 1s, onTimeout: b } }',
          '  b: { choice: [{ when: "$input.y > 1", next: t }, { next: done }] }',
          '  t: { tool: lookup, next: a }',
          '  done: { final: true }',
        ),
      ),
    ).toEqual({ errors: [], warnings: [] });
  });

  it('is rejected by load before any run', () => {
    const looping = { id: 'spin', steps: { a: { choice: [{ when: '$input.x', next: 'b' }, { next: 'done' }] }, b: { choice: [{ next: 'a' }] }, done: { final: true } } };
    expect(() => loadDefinitionFromObject(looping, [], 'spin')).toThrow(/form a cycle of choice steps only/);
  });
});

describe('maxVisits on every step kind that can be revisited', () => {
  it('is accepted on choice and wait steps', () => {
    const text = yaml(
      'id: flow',
      'steps:',
      '  a: { choice: [{ when: "$input.x", next: w }, { next: done }], maxVisits: 3 }',
      '  w: { wait: { on: { GO: a } }, maxVisits: 2 }',
      '  done: { final: true }',
    );
    expect(issuesOf(text)).toEqual({ errors: [], warnings: [] });
  });

  it('is still checked as a positive integer there', () => {
    expect(errorsOf(yaml('id: flow', 'steps:', '  w: { wait: { on: { GO: done } }, maxVisits: 0 }', '  done: { final: true }'))).toEqual([
      'flow.yaml:3:47: steps.w.maxVisits: expected a number >= 1, got 0',
    ]);
  });
});

describe('reserved keys', () => {
  it('rejects __proto__ as a step id instead of dropping the step', () => {
    expect(errorsOf(yaml('id: flow', 'steps:', '  a: { tool: lookup, next: done }', '  __proto__: { final: true }', '  done: { final: true }'))).toEqual([
      'flow.yaml:4:3: steps.__proto__: "__proto__" is a reserved name and cannot be used as a key (JavaScript would drop it); rename it',
    ]);
  });

  it('rejects __proto__ as a wait event, a context key and a mapping key, each where it is written', () => {
    expect(
      errorsOf(
        yaml(
          'id: flow',
          'steps:',
          '  ask:',
          '    claude: { tool: extract, prompt: Go., context: { __proto__: "{% $input %}" } }',
          '  call: { tool: lookup, with: { id: 1, nested: { __proto__: { polluted: true } } } }',
          '  w: { wait: { on: { APPROVE: done, __proto__: done } } }',
          '  done: { final: true, output: { __proto__: 1 } }',
        ),
      ),
    ).toEqual([
      'flow.yaml:4:54: steps.ask.claude.context.__proto__: "__proto__" is a reserved name and cannot be used as a key (JavaScript would drop it); rename it',
      'flow.yaml:5:50: steps.call.with.nested.__proto__: "__proto__" is a reserved name and cannot be used as a key (JavaScript would drop it); rename it',
      'flow.yaml:6:37: steps.w.wait.on.__proto__: "__proto__" is a reserved name and cannot be used as a key (JavaScript would drop it); rename it',
      'flow.yaml:7:34: steps.done.output.__proto__: "__proto__" is a reserved name and cannot be used as a key (JavaScript would drop it); rename it',
    ]);
  });

  it('rejects a step id that every JavaScript object already has', () => {
    expect(errorsOf(yaml('id: flow', 'steps:', '  constructor: { tool: lookup, next: done }', '  done: { final: true }'))).toEqual([
      'flow.yaml:3:3: steps.constructor: "constructor" is a reserved name (a member of every JavaScript object) and cannot be a step id; rename the step',
    ]);
    expect(errorsOf(yaml('id: flow', 'steps:', '  a: { tool: lookup, next: toString }', '  done: { final: true }'))).toEqual([
      'flow.yaml:3:28: steps.a.next: "toString" is a reserved name (a member of every JavaScript object) and cannot be a step id; rename the step',
    ]);
  });

  it('rejects __proto__ in a definition passed as data (JSON keeps it as an own key)', () => {
    const data = JSON.parse('{"id":"flow","steps":{"a":{"wait":{"on":{"GO":"done","__proto__":"a"}}},"done":{"final":true}}}');
    expect(() => loadDefinitionFromObject(data, [], 'request body')).toThrow(/steps\.a\.wait\.on\.__proto__: "__proto__" is a reserved name/);
  });
});

describe('$steps references', () => {
  it('names a reference to a missing step, with a suggestion, at its field', () => {
    expect(
      errorsOf(
        yaml(
          'id: flow',
          'steps:',
          '  extract: { claude: { tool: extract, prompt: Go. } }',
          '  check: { tool: lookup, with: { id: "{% $steps.extrct.output.id %}" } }',
          '  route: { choice: [{ when: "$count($steps.chek.output) > 0", next: done }, { next: done }] }',
          '  done: { final: true, output: "Total: {% $steps.extract.output.total %} ({% $steps.nowhere.output %})" }',
        ),
      ),
    ).toEqual([
      'flow.yaml:4:42: steps.check.with.id: $steps.extrct names no step "extrct"; did you mean "extract"?',
      'flow.yaml:5:37: steps.route.choice[0].when: $steps.chek names no step "chek"; did you mean "check"?',
      'flow.yaml:6:78: steps.done.output: $steps.nowhere names no step "nowhere"; steps are: extract, check, route, done',
    ]);
  });

  it("names a member a step's result does not have, with a suggestion", () => {
    expect(
      errorsOf(
        yaml(
          'id: flow',
          'steps:',
          '  a: { tool: lookup }',
          '  done: { final: true, output: "{% $steps.a.ouput %}" }',
        ),
      ),
    ).toEqual([
      'flow.yaml:4:36: steps.done.output: $steps.a.ouput reads nothing: a step\'s result has output, status, visit, attempts, error, event; did you mean "output"?',
    ]);
    const members = yaml('id: flow', 'steps:', '  a: { tool: lookup }', '  done: { final: true, output: "{% [$steps.a.output.x, $steps.a.status, $steps.a.visit, $steps.a.attempts, $steps.a.error.kind, $steps.a.event, $steps.a] %}" }');
    expect(issuesOf(members)).toEqual({ errors: [], warnings: [] });
  });

  it('accepts references to existing steps, quoted ids included', () => {
    const text = yaml(
      'id: flow',
      'steps:',
      '  my-step: { tool: lookup }',
      '  done: { final: true, output: "{% $steps.`my-step`.output and $steps.done.visit > 0 %}" }',
    );
    expect(issuesOf(text)).toEqual({ errors: [], warnings: [] });
  });
});

describe('$names an expression reads', () => {
  it('names a misspelled variable and an unknown function, with a suggestion written as the expression would read it ($input, $uppercase()), at its field', () => {
    expect(
      errorsOf(
        yaml(
          'id: flow',
          'steps:',
          '  check: { tool: lookup, with: { id: "{% $inptu.id %}", n: "{% $foo(1) %}", m: "{% $uppercse($input.name) %}" } }',
          '  route: { choice: [{ when: "$evnt.ok", next: done }, { next: done }] }',
          '  done: { final: true }',
        ),
      ),
    ).toEqual([
      'flow.yaml:3:42: steps.check.with.id: $inptu is not a variable; did you mean "$input"?',
      'flow.yaml:3:64: steps.check.with.n: $foo() is not a function of JSONata',
      'flow.yaml:3:84: steps.check.with.m: $uppercse() is not a function; did you mean "$uppercase()"?',
      'flow.yaml:4:30: steps.route.choice[0].when: $evnt is not a variable; did you mean "$event"?',
    ]);
    expect(
      errorsOf(yaml('id: flow', 'steps:', '  check: { tool: lookup, with: { id: "{% ($f := function($v){ $v }; $f($inptu.id) & $steps.chekc.output) %}" } }', '  done: { final: true }')),
    ).toEqual([
      'flow.yaml:3:72: steps.check.with.id: $inptu is not a variable; did you mean "$input"?',
      'flow.yaml:3:85: steps.check.with.id: $steps.chekc names no step "chekc"; did you mean "check"?',
    ]);
  });

  it('accepts the bound variables, JSONata functions (called or passed), and names the expression binds itself', () => {
    const text = yaml(
      'id: flow',
      'steps:',
      '  check: { tool: lookup, with: { a: "{% ($x := $input.n; $x + 1) %}", b: "{% $map($input.list, function($v, $i) { $v * $i }) %}", c: "{% $map($input.list, $string) %}" } }',
      '  more: { tool: lookup, with: { a: "{% ($total := $sum($input.xs); $round($total, 2)) %}", b: "{% ($f := function($n){ $n }; $f(5)) %}", c: "{% ($r := $input.rate; $map($input.xs, function($v){ $v * $r })) %}", d: "{% ($x := 1; $y := function(){ $x }; $y()) %}" } }',
      '  route: { choice: [{ when: "$count($input.orders#$i.items@$it[$i > 0]) > 0 and $exists($event) and $run.id != \'\' and $$.x = $.x", next: done }, { next: done }] }',
      '  done: { final: true, output: "{% $now() & $millis() & $steps.check.output %}" }',
    );
    expect(issuesOf(text)).toEqual({ errors: [], warnings: [] });
  });
});

describe('a definition of 5,000 chained steps', () => {
  const count = 5000;
  /** Generous: thousands of steps on a loaded machine. */
  const slow = 180_000;
  const chain = (last: string) => {
    const lines = ['id: long', 'steps:'];
    for (let i = 0; i < count; i++) lines.push(`  s${i}: { analyze: { prompt: Go., schema: {} }, next: ${i === count - 1 ? last : `s${i + 1}`} }`);
    lines.push('  done: { final: true }');
    return yaml(...lines);
  };
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stepwise-long-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('validates as `stepwise validate` does (load, checks, worst case) without overflowing the stack', async () => {
    const file = join(dir, 'long.yaml');
    writeFileSync(file, chain('done'));
    const loaded = await loadDefinition(file);
    expect(loaded.warnings).toEqual([]);
    const bound = worstCaseOf(loaded);
    expect(bound.path).toHaveLength(count + 1);
    expect(bound.steps).toHaveLength(count);
  }, slow);

  it('draws its diagram', async () => {
    const loaded = loadDefinitionFromObject(parse(chain('done')), [], 'long');
    expect(stepGraph(loaded.workflow).edges).toHaveLength(count);
    const mermaid = await diagram(loaded.workflow, 'mermaid');
    expect(mermaid).toContain('s0 --> s1\n');
    expect(mermaid).toContain('s4999 --> done\n');
  }, slow);

  it('a loop of 5,000 steps with no exit is still reported', () => {
    const errors = errorsOf(chain('s0'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^flow\.yaml:3:\d+: steps\.s0: steps "s0", "s1", .* form a loop with no exit/);
  }, slow);

  it('a chain of 5,000 choice steps is checked for choice cycles without overflowing the stack', () => {
    const lines = ['id: choices', 'steps:'];
    for (let i = 0; i < count; i++) lines.push(`  c${i}: { choice: [{ next: ${i === count - 1 ? 'c0' : `c${i + 1}`} }] }`);
    lines.push('  done: { final: true }');
    const errors = errorsOf(yaml(...lines));
    expect(errors.some((e) => /steps "c0", "c1", .* form a cycle of choice steps only/.test(e))).toBe(true);
  }, slow);
});

describe('steps that flow by the order they are listed in (no `next`)', () => {
  /**
   * The work `validate` does (checks, then the worst case) on `count` such steps, counted as the reads of the
   * steps record: its keys listed, one key looked up, one step read. A deterministic measure, not a time.
   */
  const readsToValidate = (count: number): number => {
    const lines = ['id: listed', 'steps:'];
    for (let i = 0; i < count; i++) lines.push(`  s${i}: { analyze: { prompt: Go., schema: {} }${i === count - 1 ? ', next: done' : ''} }`);
    lines.push('  done: { final: true }');
    const { data, locate } = parseYaml(yaml(...lines), 'listed.yaml');
    const parsed = validateWorkflow(data, locate, 'listed.yaml');
    let reads = 0;
    const counted = <T extends object>(target: T): T =>
      new Proxy(target, {
        ownKeys: (t) => ((reads += 1), Reflect.ownKeys(t)),
        getOwnPropertyDescriptor: (t, key) => ((reads += 1), Reflect.getOwnPropertyDescriptor(t, key)),
        get: (t, key, receiver) => ((reads += 1), Reflect.get(t, key, receiver)),
        has: (t, key) => ((reads += 1), Reflect.has(t, key)),
      });
    const workflow: Workflow = { ...parsed, steps: counted(parsed.steps) };
    const { errors } = checkWorkflow(workflow, locate, 'listed.yaml');
    expect(errors).toEqual([]);
    expect(worstCaseOf({ workflow, tools: new Map() }).path).toHaveLength(count + 1);
    return reads;
  };

  it('are validated with work that grows linearly with their number, as with explicit next (was quadratic: each step listed every key to find its successor)', () => {
    const small = readsToValidate(500);
    const large = readsToValidate(1000);
    // Twice the steps: twice the reads when linear, four times when quadratic.
    expect(large / small).toBeLessThan(2.5);
    expect(large).toBeLessThan(1000 * 40);
  });
});
