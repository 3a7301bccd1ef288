/**
 * A map body's inline definition (src/kinds/map-body.ts) carries every
 * workflow-level default its steps read, so a body step behaves as the same
 * step at the top level would: a `summary: none` on the workflow drops the
 * <progress> block in map items too.
 */
import { describe, expect, it } from 'vitest';
import { bodyWorkflow, type MapSpec } from '../../src/kinds/map-body.js';
import type { Workflow } from '../../src/definition/schema.js';

const spec = { map: { items: '{% $input.items %}', steps: { n: { claude: { tool: 'note', prompt: 'Note it.' } } } } } as unknown as MapSpec;

describe('map body', () => {
  it('inherits the workflow defaults its steps read: model, maxTokens, summary, cache, retry, limits, breaker', () => {
    const parent = {
      id: 'w',
      model: 'claude-haiku-4-5',
      maxTokens: 300,
      summary: 'none',
      cache: false,
      retry: { maxAttempts: 2 },
      limits: { maxSteps: 40 },
      breaker: false,
      steps: { m: spec },
    } as unknown as Workflow;
    const body = bodyWorkflow(parent, 'm', spec, (step) => 'final' in step);
    expect(body).toMatchObject({ id: 'w.m', model: 'claude-haiku-4-5', maxTokens: 300, summary: 'none', cache: false, retry: { maxAttempts: 2 }, limits: { maxSteps: 40 }, breaker: false });
  });

  it('leaves out what the workflow does not set', () => {
    const body = bodyWorkflow({ id: 'w', steps: { m: spec } } as unknown as Workflow, 'm', spec, (step) => 'final' in step);
    expect(Object.keys(body).sort()).toEqual(['id', 'steps']);
  });
});
