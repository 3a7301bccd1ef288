/**
 * The step graph of a validated definition: every transition a step declares,
 * with the path of the field that declares it, so checks can point at it.
 */
import { kindOf, kindOfStep } from '../kinds/index.js';
import type { Workflow } from './schema.js';
import type { PathSegment } from './locate.js';
import { allSteps, followingStep, stepOf, stepPath } from './sequences.js';

/** One transition: `from` leads to `to`, declared at `path` (or implied by the order of steps). */
export interface Edge {
  readonly from: string;
  readonly to: string;
  readonly path: readonly PathSegment[];
  /** True for the implicit `next` of a step without one. */
  readonly implicit: boolean;
}

/** The first step of a run: `start`, or the first step listed. */
export function startStep(workflow: Workflow): string {
  return workflow.start ?? Object.keys(workflow.steps)[0] ?? '';
}

/**
 * Where a step of a flowing kind (`claude`, `analyze`, `tool`: `flows` in its
 * kind) goes on success: its `next`, or, when it has none, the step listed
 * right after it. The last step listed must therefore have a `next` unless it
 * is of a kind with its own routes (`choice`, `wait`) or ends the run.
 * Returns `undefined` for other kinds, and for a last step without `next`.
 */
export function nextStep(workflow: Workflow, id: string): string | undefined {
  const step = stepOf(workflow, id);
  if (!step || !kindOf(step)?.flows) return undefined;
  const next = (step as { next?: string }).next;
  if (next !== undefined) return next;
  // Within the sequence (the workflow's steps, or a branch's) the step is listed in; looked up, not searched.
  return followingStep(workflow, id);
}

/** Every transition of every step (branch steps included), in the order the steps are listed. */
export function edges(workflow: Workflow): Edge[] {
  const out: Edge[] = [];
  for (const [id, step] of allSteps(workflow)) {
    const path = stepPath(workflow, id);
    for (const edge of kindOfStep(id, step).edges(id, step, nextStep(workflow, id))) {
      out.push({ from: id, to: edge.to, path: [...path, ...edge.path], implicit: edge.implicit ?? false });
    }
  }
  return out;
}
