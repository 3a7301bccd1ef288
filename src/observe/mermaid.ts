/** A step graph as a Mermaid `stateDiagram-v2`, which GitHub renders in Markdown. */
import type { StepGraph } from './graph.js';

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
