/**
 * How `stepwise test` names a path, in its lines and its findings: its decisions in order (a choice's branch, a
 * wait's event, an error route, a parallel branch collected; a step that succeeds by its name alone), then the step
 * it ends at. Two paths through the same steps differ in a decision, so they never read alike; a path with no
 * decision (a definition that is one final step) is that step.
 */

/** What a path does at a step: a work step succeeds or takes its error route, a choice takes a branch, a wait gets an event. */
export type Decision = { step: string; take: 'done' | 'error' | `branch ${number}` | string };

/** A decision as the diagrams draw it: `step` when it succeeds, else `step [take]` (a wait's timeout as `timeout`). */
const label = (d: Decision): string => (d.take === 'done' ? d.step : `${d.step} [${d.take === 'wait.timeout' ? 'timeout' : d.take}]`);

/** `pick [branch 1] → broken → fine`, `ask [YES] → broken → done`, `fine`. */
export function pathName(path: { readonly steps: readonly string[]; readonly decisions: readonly Decision[] }): string {
  const parts = path.decisions.map(label);
  const end = path.steps[path.steps.length - 1];
  if (end !== undefined && path.decisions[path.decisions.length - 1]?.step !== end) parts.push(end);
  return parts.join(' → ');
}
