/**
 * A step graph as Graphviz DOT, and as SVG rendered in-process by Graphviz
 * compiled to WebAssembly (`@viz-js/viz`): no browser, no network.
 */
import type { GraphNode, StepGraph } from './graph.js';

const quote = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

const shapes: Record<GraphNode['kind'], string> = {
  claude: 'shape=box, style="rounded,filled", fillcolor="#e8e0ff"',
  analyze: 'shape=box, style="rounded,filled", fillcolor="#e8e0ff"',
  tool: 'shape=box, style="rounded,filled", fillcolor="#e0f0ff"',
  choice: 'shape=diamond, style=filled, fillcolor="#f4f4f4"',
  wait: 'shape=box, style="filled,dashed", fillcolor="#fff3cd"',
  final: 'shape=box, style="rounded,filled,bold", peripheries=2, fillcolor="#e0f5e0"',
  failed: 'shape=box, style="rounded,filled", fillcolor="#fde0e0"',
  cancelled: 'shape=box, style="rounded,filled", fillcolor="#eeeeee"',
};

/** Steps to mark on a run's diagram: where it is now, and where it has been. */
export interface DiagramMarks {
  readonly active?: ReadonlySet<string>;
  readonly visited?: ReadonlySet<string>;
}

const ACTIVE = 'color="#b8460b", penwidth=3.5';
const VISITED = 'color="#1d4ed8", penwidth=2';

/** Renders `graph` as DOT; `marks` outlines a run's current steps (thick orange) and visited ones (blue). */
export function toDot(graph: StepGraph, marks: DiagramMarks = {}): string {
  const lines = [
    `digraph ${quote(graph.id)} {`,
    '  graph [rankdir=TB, fontname="Helvetica", nodesep=0.4, ranksep=0.45];',
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
    '  __start [shape=circle, style=filled, fillcolor=black, label="", width=0.15];',
  ];
  for (const node of graph.nodes) {
    const name = node.kind === 'failed' ? 'failed' : node.kind === 'cancelled' ? 'cancelled' : node.id;
    const label = node.detail ? `${name}\\n${node.detail.replace(/"/g, "'")}` : name;
    const mark = marks.active?.has(node.id) ? `, ${ACTIVE}` : marks.visited?.has(node.id) ? `, ${VISITED}` : '';
    lines.push(`  ${quote(node.id)} [label="${label}", ${shapes[node.kind] ?? ''}${mark}];`);
  }
  lines.push(`  __start -> ${quote(graph.start)};`);
  for (const edge of graph.edges) {
    const attrs = [edge.label ? `label=${quote(edge.label)}` : '', edge.failure ? 'style=dashed, color="#c0392b", fontcolor="#c0392b"' : '']
      .filter(Boolean)
      .join(', ');
    lines.push(`  ${quote(edge.from)} -> ${quote(edge.to)}${attrs ? ` [${attrs}]` : ''};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Renders `graph` as a standalone SVG document. */
export async function toSvg(graph: StepGraph, marks: DiagramMarks = {}): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(toDot(graph, marks), { format: 'svg', engine: 'dot' });
}
