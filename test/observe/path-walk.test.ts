/**
 * The simple-path walk behind `stepwise test`: every route from the start to a
 * final step, found over the compiled machine's adjacency map with an explicit
 * stack, so a long chain of steps neither overflows the call stack nor takes
 * a walk per target state.
 */
import { describe, expect, it } from 'vitest';
import { Workflow } from '../../src/definition/schema.js';
import { enumeratePaths } from '../../src/observe/paths.js';

describe('enumeratePaths', () => {
  it('finds each route once, with its decisions, cycles not repeated', () => {
    const workflow = Workflow.parse({
      id: 'routes',
      steps: {
        look: { tool: 'lookup', next: 'route', onError: 'review' },
        route: { choice: [{ when: '$input.big', next: 'review' }, { next: 'done' }] },
        review: { wait: { on: { APPROVE: 'done', AGAIN: 'look' } } },
        done: { final: true },
      },
    });
    const { routes, reached } = enumeratePaths(workflow, {});
    expect(new Set(reached)).toEqual(new Set(['look', 'route', 'review', 'done']));
    expect(routes.map((r) => r.steps.join('>')).sort()).toEqual(['look>review>done', 'look>route>done', 'look>route>review>done']);
    expect(routes.find((r) => r.steps.join('>') === 'look>route>review>done')?.decisions).toEqual([
      { step: 'look', take: 'done' },
      { step: 'route', take: 'branch 0' },
      { step: 'review', take: 'APPROVE' },
    ]);
  });

  it('walks a chain of 1,500 steps', () => {
    const count = 1500;
    const steps: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) steps[`s${i}`] = { tool: 'lookup', next: i === count - 1 ? 'done' : `s${i + 1}` };
    steps['done'] = { final: true };
    const { routes } = enumeratePaths(Workflow.parse({ id: 'long', steps }), {});
    expect(routes).toHaveLength(1);
    expect(routes[0]!.steps).toHaveLength(count + 1);
    expect(routes[0]!.decisions.every((d) => d.take === 'done')).toBe(true);
  }, 180_000);
});
