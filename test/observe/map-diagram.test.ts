/** Diagrams of the composition examples: a map body is a composite state around its own steps; a workflow step names its child. */
import { describe, expect, it } from 'vitest';
import { loadDefinition } from '../../src/definition/load.js';
import { stepGraph } from '../../src/observe/graph.js';
import { toMermaid } from '../../src/observe/mermaid.js';
import { toDot, toSvg } from '../../src/observe/dot.js';
import { definitionPath } from '../engine/helpers.js';

describe('diagrams of map and workflow steps', () => {
  it('draws the map body as a cluster of its steps, inside the map step', async () => {
    const graph = stepGraph((await loadDefinition(definitionPath('invoice-line-items.yaml'))).workflow);
    const lines = graph.nodes.find((n) => n.id === 'lines');
    expect(lines?.kind).toBe('map');
    expect(lines?.body?.nodes.map((n) => n.id)).toEqual(['price', 'check', 'done']);
    const mermaid = toMermaid(graph);
    expect(mermaid).toContain('  state lines {\n');
    expect(mermaid).toContain('    [*] --> lines__price\n');
    expect(mermaid).toContain('    lines__price --> lines__check\n');
    expect(mermaid).toContain('  lines --> total\n');
    const dot = toDot(graph);
    expect(dot).toContain('subgraph "cluster_lines/" {');
    expect(dot).toContain('    "lines/price" -> "lines/check";');
    expect(dot).toContain('"lines" [label="lines\\nmap over items (3 at once)", shape=box3d');
    expect(await toSvg(graph)).toContain('lines: each item');
  });

  it('labels a workflow step with the definition it starts, with its error route', async () => {
    const mermaid = toMermaid(stepGraph((await loadDefinition(definitionPath('invoice-intake.yaml'))).workflow));
    expect(mermaid).toContain('state "approval · workflow invoice-approval.yaml" as approval');
    expect(mermaid).toMatch(/approval --> rejected : /);
  });
});
