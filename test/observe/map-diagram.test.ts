/** Diagrams of the composition examples: a map body is a composite state around its own steps; a workflow step names its child. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefinition } from '../../src/definition/load.js';
import { stepGraph } from '../../src/observe/graph.js';
import { toMermaid } from '../../src/observe/mermaid.js';
import { toDot, toSvg } from '../../src/observe/dot.js';
import { definitionPath } from '../engine/helpers.js';
import { root } from '../cli/helpers.js';

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

  it('the composition examples have their diagrams in docs/diagrams, as drawn now, shown in the README (regenerate with scripts/diagrams.sh)', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const clusters: Record<string, string[]> = {
      'invoice-line-items': ['cluster_lines/'],
      'invoice-parallel-check': ['cluster_checks_vendor', 'cluster_checks_budget'],
      'invoice-intake': [],
    };
    for (const [name, expected] of Object.entries(clusters)) {
      const graph = stepGraph((await loadDefinition(definitionPath(`${name}.yaml`))).workflow);
      const mermaid = toMermaid(graph);
      expect(readFileSync(join(root, 'docs/diagrams', `${name}.mmd`), 'utf8')).toBe(mermaid);
      const svg = readFileSync(join(root, 'docs/diagrams', `${name}.svg`), 'utf8');
      expect(svg).toBe(await toSvg(graph));
      for (const cluster of expected) expect(svg).toContain(`<title>${cluster}</title>`);
      expect(readme).toContain(`](docs/diagrams/${name}.svg)`);
      expect(readme).toContain(`\`\`\`mermaid\n${mermaid}\`\`\``);
    }
  });
});
