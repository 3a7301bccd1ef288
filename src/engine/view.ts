/**
 * The run as callers see it (`run --json`, `engine.get()`): status, usage,
 * one entry per step visit, what it waits for, why it failed.
 */
import type { RunContext, TrailEntry } from '../compile/context.js';
import type { Failure, FailureKind, RunRecord, RunStatus, Usage } from '../run/types.js';
import { upgradeSnapshot } from './upgrade.js';
import { activeStepsOf, positionOf, waitEvents, waitsIn, waitTimeoutAt, type Position, type SnapshotLike } from './position.js';
import { isRedrivable } from './redrivable.js';

/** One step visit of a run, as `steps` lists it. */
export type StepView = TrailEntry;

/** A step the run waits at: the events it accepts, and when it times out (epoch ms), if it does. */
export interface Wait {
  readonly step: string;
  readonly events: readonly string[];
  readonly timeoutAt: number | null;
}

export interface RunView {
  readonly runId: string;
  readonly workflow: string;
  readonly version: string;
  readonly status: RunStatus;
  readonly resumable: boolean;
  /** It failed in a `map` step with failed items, which `stepwise redrive <runId>` (`engine.redrive`) runs again. */
  readonly redrivable: boolean;
  readonly output: unknown;
  readonly usage: Usage;
  readonly budget: { readonly tokens: number; readonly usd: number | null; readonly stopAt: number };
  readonly steps: readonly StepView[];
  /** Where the run waits for an event, and until when; with several waits at once (parallel branches), the first of {@link waits}. */
  readonly waitingFor: Wait | null;
  /** Every step the run waits at, in branch order: one per branch waiting at once; empty unless it waits. */
  readonly waits: readonly Wait[];
  readonly failure: Failure | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * Failures a `resume` cannot fix: running the same thing again would fail the same way (`definition_invalid`: a
 * `map` body that cannot be compiled is part of the definition kept with the run, which a resume compiles again).
 */
const finalKinds: ReadonlySet<FailureKind> = new Set(['loop', 'deadline', 'cancelled', 'context_window', 'definition_invalid']);

/**
 * Whether `resume` can continue a run. A failure is resumable when a work step
 * failed (the run rests in that step's `failed` state, which accepts
 * `run.resume`) and running it again may succeed; a run that failed outside a
 * step (`position.kind === 'failed'`: no choice branch matched, a wait timed
 * out with no route, the deadline) has nowhere to resume from.
 */
export function isResumable(status: RunStatus, failure: Failure | null, position?: Position): boolean {
  if (status === 'budget_exhausted' || status === 'running') return true;
  if (position?.kind === 'failed') return false;
  if (status === 'failed') return failure !== null && !finalKinds.has(failure.kind) && failure.step !== null;
  return false;
}

/** The run's stored snapshot, upgraded if an older version stored it. */
export function snapshotOf(record: RunRecord): SnapshotLike {
  return upgradeSnapshot(record.snapshot as SnapshotLike);
}

/** A run's failure as shown: its kind, step and message (where a nested failure began is the engine's, read from the message). */
function shownFailure(failure: Failure | null): Failure | null {
  if (failure?.origin === undefined) return failure;
  const { origin: _kept, ...shown } = failure;
  return shown;
}

export function toView(record: RunRecord): RunView {
  const snapshot = snapshotOf(record);
  const context: RunContext = snapshot.context;
  const position = positionOf(record.definition.workflow, snapshot);
  const workflow = record.definition.workflow;
  const waitAt = (step: string, events: readonly string[]): Wait => ({ step, events, timeoutAt: waitTimeoutAt(workflow, step, context) });
  let waitingFor: Wait | null = null;
  let waits: Wait[] = [];
  if (position.kind === 'wait' && record.status === 'waiting') {
    waitingFor = waitAt(position.step, position.events);
    waits = activeStepsOf(workflow, snapshot).steps.filter(waitsIn).map((step) => waitAt(step.id, waitEvents(workflow, step.id, step.phase)));
  }
  return {
    runId: record.id,
    workflow: record.workflow,
    version: record.version,
    status: record.status,
    resumable: isResumable(record.status, record.failure, position),
    redrivable: isRedrivable(record.definition.workflow, record.status, snapshot),
    // Copies: a caller that changes its view changes no value the run (or the memory store) still holds.
    output: record.output == null ? null : JSON.parse(JSON.stringify(record.output)),
    usage: { ...record.usage },
    budget: { ...context.budget },
    steps: context.trail.map((e) => ({ ...e })),
    waitingFor,
    waits,
    failure: shownFailure(record.failure),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}
