/**
 * Where a run is, read from its machine snapshot: the set of active steps
 * (each with its kind and phase), and the run status that follows. A compiled
 * workflow has one active step at a time; a machine with parallel regions has
 * one per region.
 */
import { CANCELLED_STATE, DONE_STATE, FAILED_STATE, type RunContext } from '../compile/context.js';
import type { Workflow } from '../definition/schema.js';
import { kindNamed, kindOf } from '../kinds/index.js';
import type { ActiveStep } from '../kinds/types.js';
import type { RunStatus } from '../run/types.js';
import { parseDuration } from '../util/duration.js';

export type Phase = 'ready' | 'running' | 'retrying' | 'budget_exhausted' | 'failed';

export type Position =
  | { readonly kind: 'work'; readonly step: string; readonly phase: Phase }
  | { readonly kind: 'choice'; readonly step: string }
  | { readonly kind: 'wait'; readonly step: string; readonly events: readonly string[] }
  /** At a final step whose output is still to be evaluated. */
  | { readonly kind: 'finishing'; readonly step: string }
  | { readonly kind: 'final'; readonly step: string }
  | { readonly kind: 'failed' }
  | { readonly kind: 'cancelled' };

export interface SnapshotLike {
  readonly value: unknown;
  readonly context: RunContext;
  readonly status: string;
}

/** Where a run rests outside its steps, if it does: `$failed`, `$cancelled` or `$done`. */
export type EndState = 'failed' | 'cancelled' | 'done' | null;

/**
 * The active steps of a stored snapshot, found by walking its state value: a
 * key naming a step of the workflow is an active step (its child value, if
 * any, the phase); other keys (parallel regions, groups) are walked into.
 */
export function activeStepsOf(workflow: Workflow, snapshot: Pick<SnapshotLike, 'value'>): { steps: ActiveStep[]; end: EndState } {
  const steps: ActiveStep[] = [];
  let end: EndState = null;
  const walk = (value: unknown) => {
    const entries: Array<[string, unknown]> = typeof value === 'string' ? [[value, null]] : value && typeof value === 'object' ? Object.entries(value) : [];
    for (const [key, child] of entries) {
      if (key === FAILED_STATE) end = 'failed';
      else if (key === CANCELLED_STATE) end = 'cancelled';
      else if (key === DONE_STATE) end = 'done';
      else if (workflow.steps[key]) {
        const kind = kindOf(workflow.steps[key]!);
        steps.push({ id: key, kind: kind?.name ?? 'unknown', phase: typeof child === 'string' ? child : kind?.flows ? 'ready' : null });
      } else walk(child);
    }
  };
  walk(snapshot.value);
  return { steps, end };
}

/** Whether an active step can still move by itself (not stopped in `failed` or `budget_exhausted`, not at an end). */
export function isLive(step: ActiveStep): boolean {
  return step.phase !== 'failed' && step.phase !== 'budget_exhausted' && !kindNamed(step.kind)?.ends;
}

/**
 * The run status of a set of active steps: running while any step can move
 * by itself; else failed, budget_exhausted, waiting, done, in that order.
 */
export function runStatusOf(steps: readonly ActiveStep[], end: EndState, done: boolean): RunStatus {
  if (end) return end;
  if (done) return 'done';
  const statuses = steps.map((step): RunStatus => {
    const kind = kindNamed(step.kind);
    if (step.phase === 'budget_exhausted') return 'budget_exhausted';
    if (step.phase === 'failed') return 'failed';
    if (step.phase === 'waiting') return 'waiting'; // a step whose child run waits for an event
    if (kind?.entered === 'waiting') return 'waiting';
    if (kind?.ends && done) return 'done';
    return 'running';
  });
  for (const status of ['running', 'failed', 'budget_exhausted', 'waiting'] as const) if (statuses.includes(status)) return status;
  return steps.length > 0 ? 'done' : 'failed';
}

/** The first active step of a run, as one position (what a run with one active step is at). */
export function positionOf(workflow: Workflow, snapshot: SnapshotLike): Position {
  const { steps, end } = activeStepsOf(workflow, snapshot);
  if (end === 'done') return { kind: 'final', step: snapshot.context.trail[snapshot.context.trail.length - 1]?.id ?? '' };
  if (end) return { kind: end };
  const waiting = steps.find((s) => kindNamed(s.kind)?.entered === 'waiting');
  const first = waiting ?? steps[0];
  if (!first) return { kind: 'failed' };
  return positionOfStep(workflow, first, snapshot.status === 'done');
}

function positionOfStep(workflow: Workflow, step: ActiveStep, done: boolean): Position {
  const kind = kindNamed(step.kind);
  if (kind?.entered === 'waiting') return { kind: 'wait', step: step.id, events: waitEvents(workflow, step.id) };
  // Runs finished before `$done` existed rest in the final step itself, with the machine done.
  if (kind?.ends) return done ? { kind: 'final', step: step.id } : { kind: 'finishing', step: step.id };
  if (kind?.flows) return { kind: 'work', step: step.id, phase: (step.phase ?? 'ready') as Phase };
  return { kind: 'choice', step: step.id };
}

/** The events a waiting step accepts from outside the run. */
export function waitEvents(workflow: Workflow, step: string): string[] {
  const spec = workflow.steps[step];
  return spec ? [...(kindOf(spec)?.accepts?.(spec) ?? [])] : [];
}

/** When the waiting step `step` times out, or null when it has no timeout. */
export function waitTimeoutAt(workflow: Workflow, step: string, context: RunContext): number | null {
  const spec = workflow.steps[step];
  return spec ? (kindOf(spec)?.wakeAt?.(step, spec, null, context) ?? null) : null;
}

/** When the run's deadline passes, or null when the workflow has none. */
export function deadlineAt(workflow: Workflow, context: RunContext): number | null {
  return workflow.deadline === undefined ? null : context.startedAt + parseDuration(workflow.deadline);
}
