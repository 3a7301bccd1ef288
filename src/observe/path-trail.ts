/**
 * Whether a path test's run followed its path: the steps the run visited (its
 * trail, as the run's `steps` lists them) against the path's steps and the
 * outcomes its decisions force. A run that ends `done` by another route (a
 * forced error that did not fail its step, a step the path has succeed that
 * failed by itself and took its error route, a branch the run did not take)
 * passed nothing: its path is reported as not followed.
 */
import type { StepStatus } from '../compile/context.js';
import type { Workflow } from '../definition/schema.js';
import { stepOf } from '../definition/sequences.js';
import { kindOf } from '../kinds/index.js';

/** One step visit of a path test's run, in the order the run made them. */
export interface TrailStep {
  readonly step: string;
  readonly status: StepStatus;
}

/** What a path forces, as the path test walks it: its steps in order and its decisions. */
export interface Route {
  readonly steps: readonly string[];
  readonly decisions: ReadonlyArray<{ readonly step: string; readonly take: string }>;
}

/** How many visits a trail names in a message before it elides the middle ones. */
const SHOWN = 12;

/** `a (done) → b (failed) → end`: each visit with its status, a final step's by its name alone. */
export function describeTrail(workflow: Workflow, trail: readonly TrailStep[]): string {
  const shown = (t: TrailStep) => {
    const spec = stepOf(workflow, t.step);
    return spec && kindOf(spec)?.ends === true && t.status === 'done' ? t.step : `${t.step} (${t.status})`;
  };
  const parts = trail.length <= SHOWN ? trail.map(shown) : [...trail.slice(0, SHOWN / 2).map(shown), '…', ...trail.slice(-(SHOWN / 2 - 1)).map(shown)];
  return parts.length === 0 ? '(no step)' : parts.join(' → ');
}

/**
 * Where the run left the path, as a sentence, or null when it followed it. A step the path forces to fail must have
 * failed, and a step it has succeed must have succeeded (a branch step may instead have been aborted by a sibling
 * that failed first); the top-level steps the run visited must be the
 * path's, in its order (a parallel step's branch steps run side by side in the engine's order, so only their
 * outcomes are compared). A run that did not end `done` (`finished` false) is compared up to where it stopped: its
 * failure is its path's finding, and only a departure before it is a divergence.
 */
export function divergence(workflow: Workflow, route: Route, trail: readonly TrailStep[], finished: boolean): string | null {
  const topLevel = (id: string) => Object.hasOwn(workflow.steps, id);
  const went = () => `the run went ${describeTrail(workflow, trail)}`;
  const lastTop = trail.map((t) => topLevel(t.step)).lastIndexOf(true);
  for (const { step, take } of route.decisions) {
    const forced = take === 'error';
    if (!forced && take !== 'done') continue;
    const at = trail.map((t) => t.step).lastIndexOf(step);
    const status = trail[at]?.status;
    if (status === (forced ? 'failed' : 'done')) continue;
    // A branch step that a sibling's failure aborted first (fail_fast): the order branches end in is the engine's.
    if (status === 'skipped' && !topLevel(step)) continue;
    // The run stopped before the step, or at it (its failure is the path's): not a departure.
    if (!finished && (at === -1 || at >= lastTop)) continue;
    return forced ? `the path forces ${step} to fail, but ${went()}` : `the path has ${step} succeed, but ${went()}`;
  }
  const path = [...new Set(route.steps.filter(topLevel))];
  const ran = trail.filter((t) => topLevel(t.step)).map((t) => t.step);
  const same = ran.every((id, i) => path[i] === id) && (!finished || ran.length === path.length);
  return same ? null : `the path goes ${path.join(' → ')}, but ${went()}`;
}
