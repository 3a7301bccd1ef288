/**
 * Where a run is, read from its machine snapshot: which step, which phase of
 * it, and the run status that follows.
 */
import { stepKind, type Workflow } from '../definition/schema.js';
import { CANCELLED_STATE, DONE_STATE, FAILED_STATE, type RunContext } from '../compile/context.js';
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

export function positionOf(workflow: Workflow, snapshot: SnapshotLike): Position {
  const value = snapshot.value;
  const [step, phase] =
    typeof value === 'string' ? [value, undefined] : (Object.entries(value as Record<string, string>)[0] ?? ['', undefined]);
  if (step === CANCELLED_STATE) return { kind: 'cancelled' };
  if (step === FAILED_STATE) return { kind: 'failed' };
  if (step === DONE_STATE) return { kind: 'final', step: snapshot.context.trail[snapshot.context.trail.length - 1]?.id ?? '' };
  const def = workflow.steps[step];
  if (!def) return { kind: 'failed' };
  switch (stepKind(def)) {
    case 'choice':
      return { kind: 'choice', step };
    case 'wait':
      return { kind: 'wait', step, events: Object.keys((def as { wait: { on: Record<string, string> } }).wait.on) };
    case 'final':
      // Runs finished before `$done` existed rest in the final step itself, with the machine done.
      return snapshot.status === 'done' ? { kind: 'final', step } : { kind: 'finishing', step };
    default:
      return { kind: 'work', step, phase: (phase ?? 'ready') as Phase };
  }
}

export function statusOf(position: Position): RunStatus {
  switch (position.kind) {
    case 'work':
      return position.phase === 'budget_exhausted' ? 'budget_exhausted' : position.phase === 'failed' ? 'failed' : 'running';
    case 'choice':
    case 'finishing':
      return 'running';
    case 'wait':
      return 'waiting';
    case 'final':
      return 'done';
    case 'failed':
      return 'failed';
    case 'cancelled':
      return 'cancelled';
  }
}

/** When the wait at `step` times out, or null when it has no timeout. */
export function waitTimeoutAt(workflow: Workflow, step: string, context: RunContext): number | null {
  const timeout = (workflow.steps[step] as { wait?: { timeout?: number | string } } | undefined)?.wait?.timeout;
  return timeout === undefined ? null : context.enteredAt + parseDuration(timeout);
}

/** When the run's deadline passes, or null when the workflow has none. */
export function deadlineAt(workflow: Workflow, context: RunContext): number | null {
  return workflow.deadline === undefined ? null : context.startedAt + parseDuration(workflow.deadline);
}
