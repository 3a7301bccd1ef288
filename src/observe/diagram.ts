/**
 * Diagrams of a definition in the three formats `stepwise diagram` prints:
 * Mermaid (GitHub renders it), the XState machine config as JSON (what
 * Stately's tools import), and SVG (Graphviz, in-process).
 */
import type { AnyStateMachine } from 'xstate';
import { compile } from '../compile/machine.js';
import type { Workflow } from '../definition/schema.js';
import { toDot, toSvg } from './dot.js';
import { stepGraph } from './graph.js';
import { toMermaid } from './mermaid.js';
import type { DiagramFormat } from './diagram-formats.js';

export { diagramFormats, type DiagramFormat } from './diagram-formats.js';

/** The compiled machine's config, as JSON: states, transitions, named guards and actions. */
export function machineJson(machine: AnyStateMachine): string {
  return `${JSON.stringify(machine.config, null, 2)}\n`;
}

/**
 * Renders a diagram of `workflow`.
 *
 * @example
 * ```ts
 * const svg = await diagram(definition.workflow, 'svg');
 * ```
 */
export async function diagram(workflow: Workflow, format: DiagramFormat): Promise<string> {
  const machine = compile(workflow);
  switch (format) {
    case 'json':
      return machineJson(machine);
    case 'mermaid':
      return toMermaid(stepGraph(workflow, machine));
    case 'dot':
      return toDot(stepGraph(workflow, machine));
    case 'svg':
      return toSvg(stepGraph(workflow, machine));
  }
}

export { stepGraph, toMermaid, toDot, toSvg };
