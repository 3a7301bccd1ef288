/**
 * Every event a compiled workflow machine accepts, in one union. The machine is
 * set up with it (`setup({ types: { events: RunEvent } })`), so whatever the
 * driver, the engine or a test sends to a run's actor is checked against it.
 * Time always comes in the event (`at`), never from a clock.
 */
import type { ResolvedBudget } from '../policy/budget.js';
import type { FailureKind, FailureOrigin, Usage } from '../run/types.js';
import type { RejectedFields } from './context.js';

/** A step's failure as the executor reports it. */
export interface StepFailure {
  readonly kind: FailureKind;
  readonly message: string;
  /** A `map` step that failed on its items: the indexes of the failed items, which `redrive` runs again. */
  readonly items?: readonly number[];
  /** A `parallel` step that failed fast: the branch step whose failure failed it. */
  readonly member?: string;
  /** A failure that came up from a child run or a branch: where it began (kept with the run's failure, not the step's). */
  readonly origin?: FailureOrigin;
}

/**
 * The name of an event a `wait` step accepts. Definitions spell it in
 * UPPER_CASE (`EventName` in the schema), which no engine event (`step.run`,
 * `run.cancel`, …) is, so the two never mix.
 */
export type WaitEventType = Uppercase<string>;

/**
 * An event that concerns one step names it (`step`): with several steps
 * active at once (parallel regions), a step ignores events meant for another.
 * Without `step`, every active step that accepts the type takes it.
 */
export interface StepScoped {
  readonly step?: string;
}

/** A work step may start an attempt: its projected cost decides the budget check. */
export interface StepRunEvent extends StepScoped {
  readonly type: 'step.run';
  readonly at: number;
  readonly projectedTokens: number;
  readonly projectedUsd: number;
  /** What the run's other steps have reserved and not yet settled (concurrent model calls; see src/engine/budget-pool.ts). */
  readonly reservedTokens?: number;
  readonly reservedUsd?: number;
  /**
   * Why the budget pool refused the call's reservation, when it did: a limit the run's own budget does not show (its
   * parent's, shared with the siblings of a child run), or the exact count taken near it.
   */
  readonly refused?: string;
}

/** The attempt succeeded. */
export interface StepDoneEvent extends StepScoped {
  readonly type: 'step.done';
  readonly at: number;
  readonly output: unknown;
  readonly usage: Usage;
  /** The local count of the input billed in `usage`, for the budget's calibration. */
  readonly estimatedInput?: number;
  /** The normalised tool input, for loop detection. */
  readonly fingerprint?: string;
}

/** The model proposed a valid tool input for a step under review: the step waits for APPROVE or REJECT before the tool runs. */
export interface StepProposedEvent extends StepScoped {
  readonly type: 'step.proposed';
  readonly at: number;
  readonly tool: string;
  readonly schema: Record<string, unknown>;
  readonly input: unknown;
  readonly usage: Usage;
  /** The step's prompt as the model was sent it for this attempt (templates evaluated, bounded); absent in events recorded before it was kept. */
  readonly prompt?: string;
}

/** A wait's `show` mapping was evaluated as it was entered (`problem` when it failed). */
export interface WaitShownEvent extends StepScoped {
  readonly type: 'wait.shown';
  readonly at: number;
  readonly data: unknown;
  /** Why the mapping could not be evaluated. */
  readonly problem?: string;
}

/** The attempt failed; the machine retries, routes to `onError` or stops. */
export interface StepFailedEvent extends StepScoped {
  readonly type: 'step.failed';
  readonly at: number;
  readonly usage: Usage;
  /** The local count of the input billed in `usage`, for the budget's calibration. */
  readonly estimatedInput?: number;
  readonly error: StepFailure;
  readonly retryable: boolean;
  /** When a retry would be due, or null. */
  readonly retryAt: number | null;
  readonly fingerprint?: string;
  /** An invalid tool input's fields that passed validation, for the retry to keep (see `RunContext.lastError`). */
  readonly accepted?: Readonly<Record<string, unknown>>;
  /** The fields that failed (see `RunContext.lastError`). */
  readonly rejected?: RejectedFields;
}

/** The retry backoff is over. */
export interface StepRetryEvent extends StepScoped {
  readonly type: 'step.retry';
  readonly at: number;
}

/** The branch at `index` is the first of a choice whose condition held. */
export interface ChoiceTakeEvent extends StepScoped {
  readonly type: 'choice.take';
  readonly at: number;
  readonly index: number;
}

/** No branch of a choice held, or one could not be evaluated (`message` says why). */
export interface ChoiceNoneEvent extends StepScoped {
  readonly type: 'choice.none';
  readonly at: number;
  readonly message?: string;
}

/** A wait ran out of time. */
export interface WaitTimeoutEvent extends StepScoped {
  readonly type: 'wait.timeout';
  readonly at: number;
}

/** An event a `wait` step is waiting for, with its data. */
export interface WaitEvent extends StepScoped {
  readonly type: WaitEventType;
  readonly at: number;
  readonly data?: unknown;
}

/** The workflow's deadline passed. */
export interface RunDeadlineEvent {
  readonly type: 'run.deadline';
  readonly at: number;
}

/** A failed or budget-exhausted run goes on, with this budget. */
export interface RunResumeEvent {
  readonly type: 'run.resume';
  readonly at: number;
  readonly budget: ResolvedBudget;
  /**
   * A redrive from a checkpoint: what the run spent after it, charged again on top of the checkpoint's usage, once
   * (by the resumed step `step` names, though several may take the event).
   */
  readonly carried?: { readonly step: string; readonly usage: Usage };
  /** A redrive (it starts a map's failed items again as new runs), not a resume (which resumes them: `StepRun.resumes`). */
  readonly redrive?: true;
}

/** The final step's output was evaluated: the run is done. */
export interface FinalDoneEvent extends StepScoped {
  readonly type: 'final.done';
  readonly at: number;
}

/** The final step's output expression failed: the run fails with `invalid_data`. */
export interface FinalFailedEvent extends StepScoped {
  readonly type: 'final.failed';
  readonly at: number;
  readonly message: string;
}

/** The run is cancelled. */
export interface RunCancelEvent {
  readonly type: 'run.cancel';
  readonly at: number;
  readonly reason: string;
}

/**
 * What the children of a step spent that the run was not charged yet, charged wherever the run is: the step was
 * aborted (a sibling branch failed fast) and has been left, so no event of its own will settle it.
 */
export interface RunChargeEvent {
  readonly type: 'run.charge';
  readonly at: number;
  readonly usage: Usage;
}

/** A `parallel` step's branches have started (its visit counts one attempt, journaled `started`). */
export interface ParallelStartEvent extends StepScoped {
  readonly type: 'parallel.start';
  readonly at: number;
}

/** A branch of a `parallel` step failed (`onBranchError: fail_fast`): the step fails with `error`. */
export interface ParallelFailEvent extends StepScoped {
  readonly type: 'parallel.fail';
  readonly at: number;
  readonly branch: string;
  readonly error: StepFailure;
}

/** A branch of a `parallel` step failed (`onBranchError: collect`): the branch ends, its error kept as its output. */
export interface ParallelCollectEvent extends StepScoped {
  readonly type: 'parallel.collect';
  readonly at: number;
  readonly branch: string;
}

/**
 * The child run(s) of a `workflow` or `map` step came to rest without ending:
 * waiting for an event from outside (`waiting`), or for a timer of their own
 * (`wakeAt`, a retry backoff or a wait's timeout).
 */
export interface ChildRestEvent extends StepScoped {
  readonly type: 'child.rest';
  readonly at: number;
  readonly waiting: boolean;
  readonly wakeAt: number | null;
  /** What the children spent so far (charged to the run as it grows). */
  readonly usage?: Usage;
}

/** A waiting child run moved (an event reached it, its timer came): the step looks at its children again. */
export interface ChildWakeEvent extends StepScoped {
  readonly type: 'child.wake';
  readonly at: number;
}

export type RunEvent =
  | ChildRestEvent
  | ChildWakeEvent
  | StepRunEvent
  | StepDoneEvent
  | StepFailedEvent
  | StepProposedEvent
  | StepRetryEvent
  | ChoiceTakeEvent
  | ChoiceNoneEvent
  | WaitTimeoutEvent
  | WaitShownEvent
  | WaitEvent
  | RunDeadlineEvent
  | RunResumeEvent
  | RunCancelEvent
  | RunChargeEvent
  | FinalDoneEvent
  | FinalFailedEvent
  | ParallelStartEvent
  | ParallelFailEvent
  | ParallelCollectEvent;

/** Whether `type` can name an event a `wait` step accepts. */
export function isWaitEventType(type: string): type is WaitEventType {
  return type === type.toUpperCase();
}
