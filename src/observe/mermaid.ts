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
  const lines = ['stateDiagram-v2'];
  for (const node of graph.nodes) {
    const name = node.kind === 'failed' ? 'failed' : node.kind === 'cancelled' ? 'cancelled' : node.id;
    const label = node.detail ? `${name} · ${escape(node.detail)}` : name;
    lines.push(`  state "${label}" as ${safeId(node.id)}`);
    if (node.kind === 'choice') lines.push(`  state ${safeId(node.id)}_choice <<choice>>`);
  }
  lines.push(`  [*] --> ${safeId(graph.start)}`);
  const choices = new Set(graph.nodes.filter((n) => n.kind === 'choice').map((n) => n.id));
  for (const node of choices) lines.push(`  ${safeId(node)} --> ${safeId(node)}_choice`);
  for (const edge of graph.edges) {
    const from = choices.has(edge.from) ? `${safeId(edge.from)}_choice` : safeId(edge.from);
    lines.push(`  ${from} --> ${safeId(edge.to)}${edge.label ? ` : ${escape(edge.label)}` : ''}`);
  }
  for (const node of graph.nodes) if (node.kind === 'final') lines.push(`  ${safeId(node.id)} --> [*]`);
  for (const node of graph.nodes) if (node.kind === 'wait') lines.push(`  class ${safeId(node.id)} wait`);
  lines.push('  classDef wait fill:#fff3cd,stroke:#b58900');
  return `${lines.join('\n')}\n`;
}
