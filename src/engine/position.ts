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
import { stepOf } from '../definition/sequences.js';

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
      else if (stepOf(workflow, key)) {
        const kind = kindOf(stepOf(workflow, key)!);
        // A step holding branches (parallel): its phase is its child's key, and its branch steps are active steps too.
        const nested = kind?.sequences !== undefined && child !== null && typeof child === 'object';
        const phase = typeof child === 'string' ? child : nested ? (Object.keys(child)[0] ?? null) : kind?.flows ? 'ready' : null;
        steps.push({ id: key, kind: kind?.name ?? 'unknown', phase });
        if (nested) walk(child);
      } else walk(child);
    }
  };
  walk(snapshot.value);
  return { steps, end };
}

/** The visit each active step of `snapshot` is at, by step: which visit of a step a child run (or a journal entry) belongs to. */
export function activeVisits(workflow: Workflow, snapshot: Pick<SnapshotLike, 'value' | 'context'>): Map<string, number> {
  return new Map(activeStepsOf(workflow, snapshot).steps.map((s) => [s.id, snapshot.context.visits[s.id] ?? 0]));
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
  // A step holding branches is running while its branches are; only its own `failed` phase counts.
  const statuses = steps.filter((step) => step.phase === 'failed' || !kindNamed(step.kind)?.sequences).map((step): RunStatus => {
    const kind = kindNamed(step.kind);
    if (step.phase === 'budget_exhausted') return 'budget_exhausted';
    if (step.phase === 'failed') return 'failed';
    if (step.phase === 'waiting') return 'waiting'; // a step whose child run waits for an event
    if (waitsIn(step)) return 'waiting';
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
  const waiting = steps.find(waitsIn);
  // Where a run with branches rests: a waiting step, else a stopped one (failed, budget_exhausted), else the first.
  const stopped = steps.find((s) => s.phase === 'failed' || s.phase === 'budget_exhausted');
  const first = waiting ?? stopped ?? steps[0];
  if (!first) return { kind: 'failed' };
  return positionOfStep(workflow, first, snapshot.status === 'done');
}

/** Where a run is at one of its active steps. */
export function positionOfStep(workflow: Workflow, step: ActiveStep, done: boolean): Position {
  const kind = kindNamed(step.kind);
  if (waitsIn(step)) return { kind: 'wait', step: step.id, events: waitEvents(workflow, step.id, step.phase) };
  // Runs finished before `$done` existed rest in the final step itself, with the machine done.
  if (kind?.ends) return done ? { kind: 'final', step: step.id } : { kind: 'finishing', step: step.id };
  if (kind?.sequences && step.phase !== 'failed') return { kind: 'work', step: step.id, phase: 'running' };
  if (kind?.flows) return { kind: 'work', step: step.id, phase: (step.phase ?? 'ready') as Phase };
  return { kind: 'choice', step: step.id };
}

/** Whether the run waits at `step` for a person or system: a `wait`, or a step in a waiting phase (a `claude` step under review). */
export function waitsIn(step: ActiveStep): boolean {
  const kind = kindNamed(step.kind);
  return kind?.entered === 'waiting' || (step.phase !== null && (kind?.waitingPhases?.includes(step.phase) ?? false));
}

/** The events an active step accepts from outside the run in `phase`. */
export function waitEvents(workflow: Workflow, step: string, phase: string | null = null): string[] {
  const spec = stepOf(workflow, step);
  return spec ? [...(kindOf(spec)?.accepts?.(spec, phase) ?? [])] : [];
}

/** When the waiting step `step` times out, or null when it has no timeout. */
export function waitTimeoutAt(workflow: Workflow, step: string, context: RunContext): number | null {
  const spec = stepOf(workflow, step);
  return spec ? (kindOf(spec)?.wakeAt?.(step, spec, null, context) ?? null) : null;
}

/** When the run's deadline passes, or null when the workflow has none. */
export function deadlineAt(workflow: Workflow, context: RunContext): number | null {
  return workflow.deadline === undefined ? null : context.startedAt + parseDuration(workflow.deadline);
}
