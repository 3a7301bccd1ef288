/**
 * `GET /api/runs/:id/diagram.svg`: the run's workflow drawn by Graphviz (the
 * diagram `stepwise diagram --format svg` prints), with the steps the run is
 * in now outlined thick and orange and the steps it went through outlined
 * blue. The run viewer reloads it on each commit its event stream brings.
 */
import { CANCELLED_STATE, FAILED_STATE } from '../compile/context.js';
import { activeStepsOf } from '../engine/position.js';
import { snapshotOf } from '../engine/view.js';
import { stepGraph } from '../observe/graph.js';
import { toSvg } from '../observe/dot.js';
import type { RunRecord } from '../run/types.js';

/** The steps a run is at (its end state when it ended outside a step) and the steps it visited. */
export function runMarks(record: RunRecord): { active: Set<string>; visited: Set<string> } {
  const snapshot = snapshotOf(record);
  const { steps, end } = activeStepsOf(record.definition.workflow, snapshot);
  const visited = new Set(snapshot.context.trail.map((t) => t.id));
  const active = new Set(steps.map((s) => s.id));
  if (end === 'failed') active.add(FAILED_STATE);
  if (end === 'cancelled') active.add(CANCELLED_STATE);
  const last = snapshot.context.trail[snapshot.context.trail.length - 1];
  if (end === 'done' && last) active.add(last.id);
  return { active, visited };
}

export function runDiagramSvg(record: RunRecord): Promise<string> {
  return toSvg(stepGraph(record.definition.workflow), runMarks(record));
}
