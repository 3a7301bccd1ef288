/** Types of defineWorkflow(): tool names and step targets are checked by the compiler. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineWorkflow } from '../../src/definition/define.js';
import { defineTool } from '../../src/tools/define.js';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { formatIssue, type DefinitionError } from '../../src/errors.js';

/**
 * `defineTool()` currently types `name` as `string`, which lets any tool name through `defineWorkflow()`.
 * Narrowing it to the literal shows the check `defineWorkflow()` makes as soon as `defineTool()` keeps the
 * literal name (a type-only change in src/tools/define.ts); then these casts can go.
 */
type Named<T, N extends string> = T & { readonly name: N };

const lookup = defineTool({ name: 'lookup', description: 'Look a record up', input: z.object({ id: z.string() }), run: async ({ id }) => ({ id }) });
const extract = defineTool({ name: 'extract', description: 'Extract fields', input: z.object({ total: z.number() }), run: (input) => input });
const typedLookup = lookup as Named<typeof lookup, 'lookup'>;
const typedExtract = extract as Named<typeof extract, 'extract'>;

describe('defineWorkflow types', () => {
  it('accepts a valid definition', () => {
    const module = defineWorkflow({
      id: 'typed',
      tools: [typedLookup, typedExtract],
      start: 'find',
      steps: {
        find: { tool: 'lookup', with: { id: '{% $input.id %}' }, next: 'fill', onError: 'failed' },
        fill: { claude: { tool: 'extract', prompt: 'Extract the total.' } },
        route: { choice: [{ when: '{% $steps.fill.output.total > 10 %}', next: 'approve' }, { next: 'done' }] },
        approve: { wait: { on: { APPROVE: 'done', REJECT: 'failed' }, timeout: '72h', onTimeout: 'failed' } },
        done: { final: true, output: '{% $steps.find.output %}' },
        failed: { final: true },
      },
    });
    expect(module.kind).toBe('stepwise.workflow');
    expect(module.tools).toHaveLength(2);
    expect(module.workflow).not.toHaveProperty('tools');
  });

  it('accepts map and workflow steps, their body steps using the same tools', () => {
    const module = defineWorkflow({
      id: 'composed',
      tools: [typedLookup, typedExtract],
      steps: {
        each: {
          map: { items: '{% $input.ids %}', as: 'id', steps: { find: { tool: 'lookup', with: { id: '{% $input.id %}' } } } },
          next: 'sub',
          onError: 'done',
        },
        sub: { workflow: { file: 'child.yaml', input: { ids: '{% $steps.each.output %}' } }, next: 'done' },
        done: { final: true, output: '{% $steps.sub.output %}' },
      },
    });
    expect(Object.keys(module.workflow.steps)).toEqual(['each', 'sub', 'done']);
    defineWorkflow({
      id: 'composed',
      tools: [typedLookup],
      steps: {
        // @ts-expect-error a map's body steps use only the tools passed in `tools`
        each: { map: { items: '{% $input.ids %}', steps: { fill: { tool: 'extract' } } }, next: 'done' },
        done: { final: true },
      },
    });
  });

  it('accepts tools from defineTool() as they are typed today', () => {
    const module = defineWorkflow({ id: 'plain', tools: [lookup], steps: { find: { tool: 'lookup' }, done: { final: true } } });
    expect(module.tools).toEqual([lookup]);
  });

  it('rejects a tool that is not passed in tools', () => {
    defineWorkflow({
      id: 'typed',
      tools: [typedLookup],
      steps: {
        // @ts-expect-error "lokup" is not the name of a tool in `tools`
        find: { tool: 'lokup', next: 'done' },
        done: { final: true },
      },
    });
    defineWorkflow({
      id: 'typed',
      tools: [typedLookup],
      steps: {
        // @ts-expect-error "extract" is not passed in `tools`
        fill: { claude: { tool: 'extract', prompt: 'x' }, next: 'done' },
        done: { final: true },
      },
    });
  });

  it('rejects a target that is not a step', () => {
    defineWorkflow({
      id: 'typed',
      tools: [lookup],
      steps: {
        // @ts-expect-error "dnoe" is not a step
        find: { tool: 'lookup', next: 'dnoe' },
        done: { final: true },
      },
    });
    defineWorkflow({
      id: 'typed',
      // @ts-expect-error "begin" is not a step
      start: 'begin',
      steps: { done: { final: true } },
    });
    defineWorkflow({
      id: 'typed',
      steps: {
        // @ts-expect-error "nowhere" is not a step
        route: { choice: [{ next: 'nowhere' }] },
        wait: { wait: { on: { GO: 'done' } } },
        done: { final: true },
      },
    });
  });

  it('types a parallel step: its branch steps use the workflow tools, its own routes name steps', () => {
    defineWorkflow({
      id: 'typed-parallel',
      tools: [lookup],
      steps: {
        checks: { parallel: { branches: { a: { steps: { a1: { tool: 'lookup', with: {} } } } } }, next: 'done' },
        done: { final: true },
      },
    });
    defineWorkflow({
      id: 'typed-parallel',
      tools: [lookup],
      steps: {
        // @ts-expect-error "nowhere" is not a step
        checks: { parallel: { branches: { a: { steps: { a1: { tool: 'lookup', with: {} } } } } }, next: 'nowhere' },
        done: { final: true },
      },
    });
    defineWorkflow({
      id: 'typed-parallel',
      tools: [lookup],
      steps: {
        // @ts-expect-error "nope" is not a tool
        checks: { parallel: { branches: { a: { steps: { a1: { tool: 'nope', with: {} } } } } }, next: 'done' },
        done: { final: true },
      },
    });
  });

  it('leaves routes inside a branch or a map body to the load (the types do not see them), which names each once at its path', () => {
    const module = defineWorkflow({
      id: 'nested-routes',
      tools: [typedLookup],
      steps: {
        p: { parallel: { branches: { one: { start: 'nostart', steps: { i: { tool: 'lookup', with: { id: 'x' }, next: 'nowhere', onError: 'x' } } } } }, next: 'done' },
        m: { map: { items: '{% [1] %}', steps: { b: { tool: 'lookup', with: { id: 'x' }, next: 'ghost' } } }, next: 'done' },
        done: { final: true },
      },
    });
    let issues: string[] = [];
    try {
      loadDefinitionFromObject(module, [], 'nested.ts');
    } catch (error) {
      issues = (error as DefinitionError).issues.map(formatIssue);
    }
    expect(issues).toEqual([
      'nested.ts:1:1: steps.p.parallel.branches.one.steps.i.next: no step named "nowhere"; steps are: p, m, done, i',
      'nested.ts:1:1: steps.p.parallel.branches.one.steps.i.onError: no step named "x"; did you mean "p"?',
      'nested.ts:1:1: steps.p.parallel.branches.one.start: no step named "nostart" in branch "one"; its steps are: i',
      'nested.ts:1:1: steps.m.map.steps.b.next: "ghost" is not a step of the map body; body steps are: b',
    ]);
  });
});
