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
  workflow: 'shape=box, style="rounded,filled", peripheries=2, fillcolor="#e0f5f5"',
  map: 'shape=box3d, style=filled, fillcolor="#f0ecff"',
  failed: 'shape=box, style="rounded,filled", fillcolor="#fde0e0"',
  cancelled: 'shape=box, style="rounded,filled", fillcolor="#eeeeee"',
};
/** A kind registered by someone else: a plain rounded box. */
const otherShape = 'shape=box, style="rounded,filled", fillcolor="#f4f4f4"';

/** Steps to mark on a run's diagram: where it is now, and where it has been. */
export interface DiagramMarks {
  readonly active?: ReadonlySet<string>;
  readonly visited?: ReadonlySet<string>;
}

const ACTIVE = 'color="#b8460b", penwidth=3.5';
const VISITED = 'color="#1d4ed8", penwidth=2';

/**
 * Renders `graph` as DOT; `marks` outlines a run's current steps (thick orange)
 * and visited ones (blue). The branches of a parallel step are dashed clusters
 * entered from the step; a map step's body is a dashed cluster beside it,
 * joined to it by a dotted line.
 */
export function toDot(graph: StepGraph, marks: DiagramMarks = {}): string {
  const lines = [
    `digraph ${quote(graph.id)} {`,
    '  graph [rankdir=TB, fontname="Helvetica", nodesep=0.4, ranksep=0.45];',
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
    '  __start [shape=circle, style=filled, fillcolor=black, label="", width=0.15];',
    ...nodesOf(graph, '', '  ', marks),
    `  __start -> ${quote(graph.start)};`,
    ...edgesOf(graph, '', '  '),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/** The node statements of `graph`, ids prefixed with `prefix` (a map body's are `<map>/<step>`), its regions and map bodies as clusters. */
function nodesOf(graph: StepGraph, prefix: string, indent: string, marks: DiagramMarks): string[] {
  const id = (node: string) => quote(`${prefix}${node}`);
  const lines: string[] = [];
  const declare = (node: GraphNode, at: string) => {
    const name = node.kind === 'failed' ? 'failed' : node.kind === 'cancelled' ? 'cancelled' : node.id;
    const label = node.detail ? `${name}\\n${node.detail.replace(/"/g, "'")}` : name;
    const mark = prefix === '' && marks.active?.has(node.id) ? `, ${ACTIVE}` : prefix === '' && marks.visited?.has(node.id) ? `, ${VISITED}` : '';
    lines.push(`${at}${id(node.id)} [label="${label}", ${shapes[node.kind] ?? otherShape}${mark}];`);
    if (node.body) {
      const inner = `${prefix}${node.id}/`;
      lines.push(
        `${at}subgraph ${quote(`cluster_${inner}`)} {`,
        `${at}  label=${quote(`${node.id}: each item`)}; style=dashed; color="#8e7cc3"; fontname="Helvetica"; fontsize=10;`,
        ...nodesOf(node.body, inner, `${at}  `, {}),
        ...edgesOf(node.body, inner, `${at}  `),
        `${at}}`,
        `${at}${id(node.id)} -> ${quote(`${inner}${node.body.start}`)} [style=dotted, arrowhead=none, color="#8e7cc3"];`,
      );
    }
  };
  const inRegion = (node: GraphNode, step: string, branch: string) => node.region?.step === step && node.region.branch === branch;
  const cluster = (step: string, branch: string, at: string) => {
    lines.push(`${at}subgraph ${quote(`cluster_${prefix}${step}_${branch}`)} {`, `${at}  label=${quote(branch)}; style="rounded,dashed"; color="#888888"; fontsize=10;`);
    for (const node of graph.nodes.filter((n) => inRegion(n, step, branch))) {
      declare(node, `${at}  `);
      for (const region of graph.regions.filter((r) => r.step === node.id)) cluster(region.step, region.branch, `${at}  `);
    }
    lines.push(`${at}}`);
  };
  for (const node of graph.nodes) {
    if (node.region) continue;
    declare(node, indent);
    for (const region of graph.regions.filter((r) => r.step === node.id)) cluster(region.step, region.branch, indent);
  }
  // Each branch is entered from its parallel step, and each of its ends joins in one point.
  for (const step of new Set(graph.regions.map((r) => r.step))) lines.push(`${indent}${id(`${step}__join`)} [shape=point, width=0.08, label=""];`);
  for (const region of graph.regions) {
    lines.push(`${indent}${id(region.step)} -> ${id(region.start)} [style=bold, arrowhead=none];`);
    for (const end of region.ends) lines.push(`${indent}${id(end)} -> ${id(`${region.step}__join`)} [arrowhead=none];`);
  }
  return lines;
}

/** The edge statements of `graph`, ids prefixed with `prefix`. */
function edgesOf(graph: StepGraph, prefix: string, indent: string): string[] {
  const id = (node: string) => quote(`${prefix}${node}`);
  return graph.edges.map((edge) => {
    const attrs = [edge.label ? `label=${quote(edge.label)}` : '', edge.failure ? 'style=dashed, color="#c0392b", fontcolor="#c0392b"' : '']
      .filter(Boolean)
      .join(', ');
    return `${indent}${id(edge.from)} -> ${id(edge.to)}${attrs ? ` [${attrs}]` : ''};`;
  });
}

/** Renders `graph` as a standalone SVG document. */
export async function toSvg(graph: StepGraph, marks: DiagramMarks = {}): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(toDot(graph, marks), { format: 'svg', engine: 'dot' });
}
