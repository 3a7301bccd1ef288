/**
 * A step graph as a Mermaid `stateDiagram-v2`, which GitHub renders in
 * Markdown. The branches of a `parallel` step are drawn as the concurrent
 * regions of a composite state (separated by `--`), each from `[*]` to `[*]`;
 * a `map` step's body is a composite state around the steps each item runs.
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
  const lines = ['stateDiagram-v2', ...render(graph, '', '  ')];
  const waits = (g: StepGraph, prefix: string): string[] =>
    g.nodes.flatMap((n) => [...(n.kind === 'wait' ? [`  class ${prefix}${safeId(n.id)} wait`] : []), ...(n.body ? waits(n.body, `${prefix}${safeId(n.id)}__`) : [])]);
  lines.push(...waits(graph, ''), '  classDef wait fill:#fff3cd,stroke:#b58900');
  return `${lines.join('\n')}\n`;
}

/** The states and transitions of `graph`, ids prefixed with `prefix` (a map body's are `<map>__<step>`). */
function render(graph: StepGraph, prefix: string, indent: string): string[] {
  const id = (node: string) => `${prefix}${safeId(node)}`;
  const lines: string[] = [];
  const choices = new Set(graph.nodes.filter((n) => n.kind === 'choice').map((n) => n.id));
  const regionKey = (node: Pick<GraphNode, 'region'>) => (node.region ? `${node.region.step}/${node.region.branch}` : '');
  const keyOf = new Map(graph.nodes.map((n) => [n.id, regionKey(n)]));

  const declare = (node: GraphNode, at: string) => {
    const name = node.kind === 'failed' ? 'failed' : node.kind === 'cancelled' ? 'cancelled' : node.id;
    const label = node.detail ? `${name} · ${escape(node.detail)}` : name;
    lines.push(`${at}state "${label}" as ${id(node.id)}`);
    if (node.kind === 'choice') lines.push(`${at}state ${id(node.id)}_choice <<choice>>`);
    if (node.body) lines.push(`${at}state ${id(node.id)} {`, ...render(node.body, `${id(node.id)}__`, `${at}  `), `${at}}`);
    const regions = graph.regions.filter((r) => r.step === node.id);
    if (regions.length === 0) return;
    lines.push(`${at}state ${id(node.id)} {`);
    regions.forEach((region, index) => {
      if (index > 0) lines.push(`${at}  --`);
      const key = `${region.step}/${region.branch}`;
      for (const member of graph.nodes.filter((n) => regionKey(n) === key)) declare(member, `${at}  `);
      lines.push(`${at}  [*] --> ${id(region.start)}`);
      edgesIn(key, `${at}  `);
      for (const end of region.ends) lines.push(`${at}  ${id(end)} --> [*]`);
    });
    lines.push(`${at}}`);
  };
  const edgesIn = (key: string, at: string) => {
    for (const node of choices) if (keyOf.get(node) === key) lines.push(`${at}${id(node)} --> ${id(node)}_choice`);
    for (const edge of graph.edges) {
      if (keyOf.get(edge.from) !== key) continue;
      const from = choices.has(edge.from) ? `${id(edge.from)}_choice` : id(edge.from);
      lines.push(`${at}${from} --> ${id(edge.to)}${edge.label ? ` : ${escape(edge.label)}` : ''}`);
    }
  };

  for (const node of graph.nodes) if (!node.region) declare(node, indent);
  lines.push(`${indent}[*] --> ${id(graph.start)}`);
  edgesIn('', indent);
  for (const node of graph.nodes) if (node.kind === 'final') lines.push(`${indent}${id(node.id)} --> [*]`);
  return lines;
}
