/**
 * A step graph as a Mermaid `stateDiagram-v2`, which GitHub renders in
 * Markdown. The branches of a `parallel` step are drawn as the concurrent
 * regions of a composite state (separated by `--`), each from `[*]` to `[*]`.
 */
import type { GraphNode, StepGraph } from './graph.js';

const safeId = (id: string) => id.replace(/[^A-Za-z0-9_]/g, '_');
const escape = (text: string) => text.replace(/"/g, "'").replace(/:/g, '﹕').replace(/[<>]/g, (c) => (c === '<' ? '‹' : '›'));

/**
 * Renders `graph` as Mermaid.
 *
 * @example
 * ```ts
 * const text = toMermaid(stepGraph(definition.workflow));
 * ```
 */
export function toMermaid(graph: StepGraph): string {
  const lines = ['stateDiagram-v2'];
  const choices = new Set(graph.nodes.filter((n) => n.kind === 'choice').map((n) => n.id));
  const regionKey = (node: Pick<GraphNode, 'region'>) => (node.region ? `${node.region.step}/${node.region.branch}` : '');
  const keyOf = new Map(graph.nodes.map((n) => [n.id, regionKey(n)]));

  const declare = (node: GraphNode, indent: string) => {
    const name = node.kind === 'failed' ? 'failed' : node.kind === 'cancelled' ? 'cancelled' : node.id;
    const label = node.detail ? `${name} · ${escape(node.detail)}` : name;
    lines.push(`${indent}state "${label}" as ${safeId(node.id)}`);
    if (node.kind === 'choice') lines.push(`${indent}state ${safeId(node.id)}_choice <<choice>>`);
    // A map step's body: a composite state around the steps each item runs.
    if (node.body) lines.push(`${indent}state ${safeId(node.id)} {`, ...renderBody(node.body, `${safeId(node.id)}__`, `${indent}  `), `${indent}}`);
    const regions = graph.regions.filter((r) => r.step === node.id);
    if (regions.length === 0) return;
    lines.push(`${indent}state ${safeId(node.id)} {`);
    regions.forEach((region, index) => {
      if (index > 0) lines.push(`${indent}  --`);
      const key = `${region.step}/${region.branch}`;
      for (const member of graph.nodes.filter((n) => regionKey(n) === key)) declare(member, `${indent}  `);
      lines.push(`${indent}  [*] --> ${safeId(region.start)}`);
      edgesIn(key, `${indent}  `);
      for (const end of region.ends) lines.push(`${indent}  ${safeId(end)} --> [*]`);
    });
    lines.push(`${indent}}`);
  };
  const edgesIn = (key: string, indent: string) => {
    for (const node of choices) if (keyOf.get(node) === key) lines.push(`${indent}${safeId(node)} --> ${safeId(node)}_choice`);
    for (const edge of graph.edges) {
      if (keyOf.get(edge.from) !== key) continue;
      const from = choices.has(edge.from) ? `${safeId(edge.from)}_choice` : safeId(edge.from);
      lines.push(`${indent}${from} --> ${safeId(edge.to)}${edge.label ? ` : ${escape(edge.label)}` : ''}`);
    }
  };

  for (const node of graph.nodes) if (!node.region) declare(node, '  ');
  lines.push(`  [*] --> ${safeId(graph.start)}`);
  edgesIn('', '  ');
  for (const node of graph.nodes) if (node.kind === 'final') lines.push(`  ${safeId(node.id)} --> [*]`);
  const waits = (g: StepGraph, prefix: string): string[] =>
    g.nodes.flatMap((n) => [...(n.kind === 'wait' ? [`  class ${prefix}${safeId(n.id)} wait`] : []), ...(n.body ? waits(n.body, `${prefix}${safeId(n.id)}__`) : [])]);
  lines.push(...waits(graph, ''));
  lines.push('  classDef wait fill:#fff3cd,stroke:#b58900');
  return `${lines.join('\n')}\n`;
}

/** The states and transitions of `graph`, ids prefixed with `prefix`; a map step's body is a composite state around its steps. */
function render(graph: StepGraph, prefix: string, indent: string): string[] {
  const id = (node: string) => `${prefix}${safeId(node)}`;
  const lines: string[] = [];
  for (const node of graph.nodes) {
    const name = node.kind === 'failed' ? 'failed' : node.kind === 'cancelled' ? 'cancelled' : node.id;
    const label = node.detail ? `${name} · ${escape(node.detail)}` : name;
    lines.push(`${indent}state "${label}" as ${id(node.id)}`);
    if (node.body) lines.push(`${indent}state ${id(node.id)} {`, ...render(node.body, `${id(node.id)}__`, `${indent}  `), `${indent}}`);
    if (node.kind === 'choice') lines.push(`${indent}state ${id(node.id)}_choice <<choice>>`);
  }
  lines.push(`${indent}[*] --> ${id(graph.start)}`);
  const choices = new Set(graph.nodes.filter((n) => n.kind === 'choice').map((n) => n.id));
  for (const node of choices) lines.push(`${indent}${id(node)} --> ${id(node)}_choice`);
  for (const edge of graph.edges) {
    const from = choices.has(edge.from) ? `${id(edge.from)}_choice` : id(edge.from);
    lines.push(`${indent}${from} --> ${id(edge.to)}${edge.label ? ` : ${escape(edge.label)}` : ''}`);
  }
  for (const node of graph.nodes) if (node.kind === 'final') lines.push(`${indent}${id(node.id)} --> [*]`);
  return lines;
}

/** The states and transitions of a map body, ids prefixed with `prefix`; a nested map body is a composite state around its steps. */
function renderBody(graph: StepGraph, prefix: string, indent: string): string[] {
  const id = (node: string) => `${prefix}${safeId(node)}`;
  const lines: string[] = [];
  for (const node of graph.nodes) {
    const name = node.kind === 'failed' ? 'failed' : node.kind === 'cancelled' ? 'cancelled' : node.id;
    const label = node.detail ? `${name} · ${escape(node.detail)}` : name;
    lines.push(`${indent}state "${label}" as ${id(node.id)}`);
    if (node.body) lines.push(`${indent}state ${id(node.id)} {`, ...renderBody(node.body, `${id(node.id)}__`, `${indent}  `), `${indent}}`);
    if (node.kind === 'choice') lines.push(`${indent}state ${id(node.id)}_choice <<choice>>`);
  }
  lines.push(`${indent}[*] --> ${id(graph.start)}`);
  const choices = new Set(graph.nodes.filter((n) => n.kind === 'choice').map((n) => n.id));
  for (const node of choices) lines.push(`${indent}${id(node)} --> ${id(node)}_choice`);
  for (const edge of graph.edges) {
    const from = choices.has(edge.from) ? `${id(edge.from)}_choice` : id(edge.from);
    lines.push(`${indent}${from} --> ${id(edge.to)}${edge.label ? ` : ${escape(edge.label)}` : ''}`);
  }
  for (const node of graph.nodes) if (node.kind === 'final') lines.push(`${indent}${id(node.id)} --> [*]`);
  return lines;
}
