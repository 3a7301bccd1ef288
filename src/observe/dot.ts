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
  workflow: 'shape=box, style="rounded,filled", peripheries=2, fillcolor="#e0f5f5"',
  map: 'shape=box3d, style=filled, fillcolor="#f0ecff"',
};
/** A kind registered by someone else: a plain rounded box. */
const otherShape = 'shape=box, style="rounded,filled", fillcolor="#f4f4f4"';

/** Renders `graph` as DOT; a map step's body is a dashed cluster beside it, joined to it by a dotted line. */
export function toDot(graph: StepGraph): string {
  const lines = [
    `digraph ${quote(graph.id)} {`,
    '  graph [rankdir=TB, fontname="Helvetica", nodesep=0.4, ranksep=0.45];',
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
    '  __start [shape=circle, style=filled, fillcolor=black, label="", width=0.15];',
    ...body(graph, '', '  ', 'nodes'),
    `  __start -> ${quote(graph.start)};`,
    ...body(graph, '', '  ', 'edges'),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/** The nodes and edges of `graph`, ids prefixed with `prefix` (a map body's are `<map>/<step>`). */
function body(graph: StepGraph, prefix: string, indent: string, part: 'nodes' | 'edges' | 'both' = 'both'): string[] {
  const id = (node: string) => quote(`${prefix}${node}`);
  const lines: string[] = [];
  for (const node of part === 'edges' ? [] : graph.nodes) {
    const name = node.kind === 'failed' ? 'failed' : node.kind === 'cancelled' ? 'cancelled' : node.id;
    const label = node.detail ? `${name}\\n${node.detail.replace(/"/g, "'")}` : name;
    lines.push(`${indent}${id(node.id)} [label="${label}", ${shapes[node.kind] ?? otherShape}];`);
    if (node.body) {
      const inner = `${prefix}${node.id}/`;
      lines.push(
        `${indent}subgraph ${quote(`cluster_${inner}`)} {`,
        `${indent}  label=${quote(`${node.id}: each item`)}; style=dashed; color="#8e7cc3"; fontname="Helvetica"; fontsize=10;`,
        ...body(node.body, inner, `${indent}  `),
        `${indent}}`,
        `${indent}${id(node.id)} -> ${quote(`${inner}${node.body.start}`)} [style=dotted, arrowhead=none, color="#8e7cc3"];`,
      );
    }
  }
  for (const edge of part === 'nodes' ? [] : graph.edges) {
    const attrs = [edge.label ? `label=${quote(edge.label)}` : '', edge.failure ? 'style=dashed, color="#c0392b", fontcolor="#c0392b"' : '']
      .filter(Boolean)
      .join(', ');
    lines.push(`${indent}${id(edge.from)} -> ${id(edge.to)}${attrs ? ` [${attrs}]` : ''};`);
  }
  return lines;
}

/** Renders `graph` as a standalone SVG document. */
export async function toSvg(graph: StepGraph): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(toDot(graph), { format: 'svg', engine: 'dot' });
}
