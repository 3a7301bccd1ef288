import { describe, expect, it } from 'vitest';
import { loadDefinition } from '../../src/definition/load.js';
import { Workflow } from '../../src/definition/schema.js';
import { stepGraph } from '../../src/observe/graph.js';
import { toMermaid } from '../../src/observe/mermaid.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli } from './cli.js';

describe('diagrams', { timeout: SPAWN_BUDGET_MS }, () => {
  it('reads the step graph from the compiled machine: conditions, events, error routes', async () => {
    const { workflow } = await loadDefinition('definitions/invoice-approval.yaml');
    const graph = stepGraph(workflow);
    expect(graph.start).toBe('extract');
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { from: 'extract', to: 'validate', label: '', failure: false },
        { from: 'route', to: 'cfo_approval', label: 'extract.total > 10000', failure: false },
        { from: 'cfo_approval', to: 'escalated', label: 'timeout', failure: false },
        expect.objectContaining({ from: 'validate', to: 'manual_review', failure: true }),
      ]),
    );
    // manual_review has no timeout, so no timeout edge is drawn for it.
    expect(graph.edges.find((e) => e.from === 'manual_review' && e.label === 'timeout')).toBeUndefined();
    const mermaid = toMermaid(graph);
    expect(mermaid).toContain('route_choice --> pay : otherwise');
    // route has a default branch: no "no branch matched" route to failed is drawn.
    expect(graph.edges.find((e) => e.from === 'route' && e.label === 'no branch matched')).toBeUndefined();
    expect(mermaid).not.toContain('no branch matched');
    expect(mermaid).toContain('[*] --> extract');
  });

  it('draws "no branch matched" to failed only for a choice without a default branch', () => {
    const workflow = Workflow.parse({
      id: 'choices',
      steps: {
        strict: { choice: [{ when: '$input.big', next: 'lenient' }] },
        lenient: { choice: [{ when: '$input.small', next: 'done' }, { next: 'done' }] },
        done: { final: true },
      },
    });
    const graph = stepGraph(workflow);
    expect(graph.edges.filter((e) => e.label === 'no branch matched')).toEqual([{ from: 'strict', to: '$failed', label: 'no branch matched', failure: true }]);
  });

  it('keeps the success route when a step goes to the same step on success and on error', () => {
    const workflow = Workflow.parse({
      id: 'same-target',
      steps: {
        a: { tool: 'flaky', next: 'b', onError: 'b' },
        b: { tool: 'flaky', onError: 'c' },
        c: { final: true },
      },
    });
    const graph = stepGraph(workflow);
    // a reaches b either way: one edge that says both, drawn as the normal route; b reaches c on error only.
    expect(graph.edges.filter((e) => e.from === 'a')).toEqual([{ from: 'a', to: 'b', label: 'done / breaker open / error', failure: false }]);
    expect(graph.edges.filter((e) => e.from === 'b' && e.to === 'c')).toEqual([{ from: 'b', to: 'c', label: 'done / breaker open / error', failure: false }]);
    expect(toMermaid(graph)).toContain('a --> b : done / breaker open / error');
  });

  it('stepwise diagram prints Mermaid, machine JSON and SVG', async () => {
    const mermaid = await cli(['diagram', 'definitions/support-triage.yaml']);
    expect(mermaid.code).toBe(0);
    expect(mermaid.stdout.startsWith('stateDiagram-v2\n')).toBe(true);
    expect(mermaid.stdout).toContain('reply --> replied');

    const json = await cli(['diagram', 'definitions/invoice-approval.yaml', '--format', 'json']);
    const config = JSON.parse(json.stdout) as { id: string; initial: string; states: Record<string, { states?: object }> };
    expect(config).toMatchObject({ id: 'wf', initial: 'extract' });
    expect(Object.keys(config.states['extract']!.states!)).toEqual(['ready', 'running', 'retrying', 'budget_exhausted', 'failed']);

    const svg = await cli(['diagram', 'definitions/lead-enrichment.ts', '--format', 'svg']);
    expect(svg.code).toBe(0);
    expect(svg.stdout).toContain('<svg');
    expect(svg.stdout).toContain('score_lead');

    const bad = await cli(['diagram', 'definitions/support-triage.yaml', '--format', 'png']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--format must be one of');
  });
});
