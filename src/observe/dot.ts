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
  parallel: 'shape=box, style="rounded,filled,bold", fillcolor="#f0f0f0"',
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
  const declare = (node: GraphNode, indent: string) => {
    const name = node.kind === 'failed' ? 'failed' : node.kind === 'cancelled' ? 'cancelled' : node.id;
    const label = node.detail ? `${name}\\n${node.detail.replace(/"/g, "'")}` : name;
    const mark = marks.active?.has(node.id) ? `, ${ACTIVE}` : marks.visited?.has(node.id) ? `, ${VISITED}` : '';
    lines.push(`${indent}${quote(node.id)} [label="${label}", ${shapes[node.kind] ?? 'shape=box, style=rounded'}${mark}];`);
  };
  // The branches of a parallel step: one dashed cluster per branch, entered from the step, each end joining in one point.
  const inRegion = (node: GraphNode, step: string, branch: string) => node.region?.step === step && node.region.branch === branch;
  const cluster = (step: string, branch: string, indent: string) => {
    lines.push(`${indent}subgraph ${quote(`cluster_${step}_${branch}`)} {`, `${indent}  label=${quote(branch)}; style="rounded,dashed"; color="#888888"; fontsize=10;`);
    for (const node of graph.nodes.filter((n) => inRegion(n, step, branch))) {
      declare(node, `${indent}  `);
      for (const region of graph.regions.filter((r) => r.step === node.id)) cluster(region.step, region.branch, `${indent}  `);
    }
    lines.push(`${indent}}`);
  };
  for (const node of graph.nodes) {
    if (node.region) continue;
    declare(node, '  ');
    for (const region of graph.regions.filter((r) => r.step === node.id)) cluster(region.step, region.branch, '  ');
  }
  const joins = new Set(graph.regions.map((r) => r.step));
  for (const step of joins) lines.push(`  ${quote(`${step}__join`)} [shape=point, width=0.08, label=""];`);
  for (const region of graph.regions) {
    lines.push(`  ${quote(region.step)} -> ${quote(region.start)} [style=bold, arrowhead=none];`);
    for (const end of region.ends) lines.push(`  ${quote(end)} -> ${quote(`${region.step}__join`)} [arrowhead=none];`);
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
