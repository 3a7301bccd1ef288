/**
 * Graph checks of a definition: every step can reach a `final` step (a loop
 * with no exit is an error naming its steps), no cycle is made of choice
 * steps alone (nothing would bound it), and every step can be reached from
 * the start (an unreachable step is a warning). Every walk is iterative, so
 * a definition of thousands of chained steps cannot overflow the stack.
 */
import type { Workflow } from './schema.js';
import type { Edge } from './graph.js';
import type { PathSegment } from './locate.js';
import { stronglyConnected } from '../util/components.js';
import { kindOf } from '../kinds/index.js';

/** A finding before it is located: an error or a warning at a path. */
export interface Finding {
  readonly path: readonly PathSegment[];
  readonly message: string;
  /** For a finding inside a string (an expression's), where in that string (an index into it). */
  readonly at?: number;
}

const quoteList = (ids: readonly string[]) => ids.map((id) => `"${id}"`).join(', ');

/**
 * Reachability findings. `edges` must only hold transitions to existing
 * steps; `broken` names the steps that have a transition to a missing one
 * (already reported), so they are not reported again as dead ends.
 */
export function reachFindings(
  workflow: Workflow,
  start: string,
  edges: readonly Edge[],
  broken: ReadonlySet<string>,
): { errors: Finding[]; warnings: Finding[] } {
  const ids = Object.keys(workflow.steps);
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  const into = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const edge of edges) {
    out.get(edge.from)?.push(edge.to);
    into.get(edge.to)?.push(edge.from);
  }
  const errors: Finding[] = [];
  const warnings: Finding[] = [];

  if (workflow.steps[start]) {
    const reached = closure([start], out);
    for (const id of ids) {
      if (!reached.has(id)) warnings.push({ path: ['steps', id], message: `step "${id}" is never reached from the start step "${start}"` });
    }
  }

  errors.push(...choiceCycles(workflow, ids, out));

  const finals = ids.filter((id) => kindOf(workflow.steps[id] ?? {})?.ends === true);
  if (finals.length === 0) {
    errors.push({ path: ['steps'], message: 'no final step, so a run can never complete; add one, e.g. `done: { final: true }`' });
    return { errors, warnings };
  }
  const finishing = closure(finals, into);
  const dead = new Set(ids.filter((id) => !finishing.has(id)));
  for (const component of sinkComponents(dead, out)) {
    const [first] = component as [string, ...string[]];
    const loops = component.length > 1 || (out.get(first) ?? []).includes(first);
    if (loops) {
      errors.push({
        path: ['steps', first],
        message: `steps ${quoteList(component)} form a loop with no exit: none of them can reach a final step; route one of them (a choice branch, onError, or a wait event) to a step that ends the run`,
      });
    } else if (!broken.has(first)) {
      errors.push({ path: ['steps', first], message: `step "${first}" leads nowhere, so it cannot reach a final step` });
    }
  }
  return { errors, warnings };
}

/**
 * Cycles whose steps are all `choice` steps: a run would go round such a
 * cycle without doing work or waiting for anything, so no visit of a work step
 * or wait ever bounds it.
 */
function choiceCycles(workflow: Workflow, ids: readonly string[], out: ReadonlyMap<string, readonly string[]>): Finding[] {
  const choices = ids.filter((id) => kindOf(workflow.steps[id] ?? {})?.instant === true);
  return stronglyConnected(choices, out)
    .filter((component) => component.length > 1 || (out.get(component[0]!) ?? []).includes(component[0]!))
    .map((component) => ({
      path: ['steps', component[0]!],
      message: `steps ${quoteList(component)} form a cycle of choice steps only: a run would go round it without doing work or waiting, with nothing to bound it; put a work or wait step on the cycle, or route its branches elsewhere`,
    }));
}

function closure(from: readonly string[], links: ReadonlyMap<string, readonly string[]>): Set<string> {
  const seen = new Set(from);
  const queue = [...from];
  for (let head = 0, id = queue[0]; id !== undefined; id = queue[++head]) {
    for (const to of links.get(id) ?? []) {
      if (!seen.has(to)) {
        seen.add(to);
        queue.push(to);
      }
    }
  }
  return seen;
}

/**
 * Strongly connected components (Tarjan) of the `nodes` subgraph that no edge
 * leaves: the loops and dead ends every other dead step runs into. Each
 * component lists its steps in the order they are listed in the definition.
 */
function sinkComponents(nodes: ReadonlySet<string>, out: ReadonlyMap<string, readonly string[]>): string[][] {
  const order = [...nodes];
  const position = new Map(order.map((id, i) => [id, i]));
  const components = stronglyConnected(order, out);
  const componentOf = new Map<string, number>();
  components.forEach((members, i) => members.forEach((id) => componentOf.set(id, i)));
  return components
    .filter((component, i) => component.every((id) => (out.get(id) ?? []).every((to) => !nodes.has(to) || componentOf.get(to) === i)))
    .sort((a, b) => position.get(a[0]!)! - position.get(b[0]!)!);
}
