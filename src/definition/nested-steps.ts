/**
 * The steps of a definition at any depth: a sequence's steps, those of their
 * parallel branches and those of their map bodies (which are no sequences of
 * the workflow: their ids are the body's own), each with its path and whether
 * it runs once per map item. What looks for `workflow` steps (the child files
 * a definition names, its cycles of children, whether a map body calls the
 * model) walks them here.
 */
import type { PathSegment } from './locate.js';

/** Where a `workflow` step finds its child: exactly one of them. */
export interface ChildRefSpec {
  readonly file?: string | undefined;
  readonly id?: string | undefined;
}

/** A step, where it sits. */
export interface NestedStep {
  readonly id: string;
  readonly step: object;
  /** The step's path in the definition, e.g. `['steps', 'each', 'map', 'steps', id]`. */
  readonly path: readonly PathSegment[];
  /** Whether it is in a map body (at any depth): it runs once per item, and there may be none. */
  readonly inMap: boolean;
  /** Its child, for a `workflow` step. */
  readonly workflow?: ChildRefSpec;
  /** Whether its own steps (a map body, parallel branches) are walked too. */
  readonly holds: boolean;
}

type Steps = Readonly<Record<string, object>>;

interface StepShape {
  readonly workflow?: ChildRefSpec;
  readonly parallel?: { readonly branches: Readonly<Record<string, { readonly steps: Steps }>> };
  readonly map?: { readonly steps: Steps };
}

/**
 * Every step of `steps` (at `path`), depth-first in the order they are listed: a step, then the steps of its
 * parallel branches, then those of its map body.
 * @example
 * for (const { path, workflow } of nestedSteps(definition.steps)) if (workflow?.file) console.log(path, workflow.file);
 */
export function* nestedSteps(steps: Steps, path: readonly PathSegment[] = ['steps'], inMap = false): Generator<NestedStep> {
  for (const [id, raw] of Object.entries(steps)) {
    const step = raw as StepShape;
    const at = [...path, id];
    const holds = step.parallel !== undefined || step.map !== undefined;
    yield { id, step: raw, path: at, inMap, holds, ...(step.workflow ? { workflow: step.workflow } : {}) };
    for (const [name, branch] of Object.entries(step.parallel?.branches ?? {})) yield* nestedSteps(branch.steps, [...at, 'parallel', 'branches', name, 'steps'], inMap);
    if (step.map) yield* nestedSteps(step.map.steps, [...at, 'map', 'steps'], true);
  }
}
