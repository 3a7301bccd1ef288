/**
 * The context of a compiled workflow machine (its events are in events.ts).
 * The context is all a run needs to continue after a restart; it is persisted
 * with every snapshot.
 */
import type { ResolvedBudget } from '../policy/budget.js';
import type { Calibration } from '../policy/calibration.js';
import type { Failure, FailureKind, Usage } from '../run/types.js';

export type StepStatus = 'done' | 'failed' | 'waiting' | 'running' | 'skipped';

/** The latest result of a step, as `$steps.<id>` in expressions. */
export interface StepResult {
  readonly output: unknown;
  readonly status: StepStatus;
  readonly visit: number;
  readonly attempts: number;
  /**
   * Why it failed; a `map` step that failed on its items names them (`items`, their indexes: what `redrive` runs
   * again), a `parallel` step that failed fast the branch step whose failure failed it (`member`).
   */
  readonly error?: { readonly kind: FailureKind; readonly message: string; readonly items?: readonly number[]; readonly member?: string };
  /** For `wait` steps: the event that ended the wait. */
  readonly event?: string;
}

/** One visit of a step, in order. */
export interface TrailEntry {
  readonly id: string;
  readonly visit: number;
  readonly status: StepStatus;
  readonly attempts: number;
  readonly tokens: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Prompt-cache writes and reads of the visit's attempts (absent when none); `tokens` counts them weighted. */
  readonly cacheCreationInputTokens?: number;
  readonly cacheReadInputTokens?: number;
  readonly startedAt: number;
  readonly endedAt: number | null;
}

export type { ResolvedBudget } from '../policy/budget.js';

/** The state of one step's current visit. */
export interface StepRun {
  /**
   * Attempt of the visit, from 1 once started. A resume does not start it again: the next attempt goes on past it,
   * so each attempt of a visit has its own number (in the journal and in its idempotency key).
   */
  readonly attempt: number;
  /**
   * The attempts of the visit made before its latest resume (absent: none, as in snapshots stored before it was
   * kept): the retry policy counts the attempts after it, so a resumed step has its whole `maxAttempts` again.
   */
  readonly resumedAfter?: number;
  /**
   * How many times a `resume` (not a redrive) went on with the visit (absent: none). A `map` step resumes each of its
   * failed items once per resume: an item's run keeps the number of the resume that resumed it (`ParentLink.resumed`).
   */
  readonly resumes?: number;
  /** Due time of the pending retry backoff. */
  readonly retryAt: number | null;
  /** When the visit began. */
  readonly enteredAt: number;
  /** A `claude` step with `review`: the tool input awaiting a person's decision, then the one approved. */
  readonly review?: Review;
  /** A `wait` step with `show`: what the person must judge, evaluated when the wait was entered. */
  readonly shown?: { readonly data: unknown; readonly error?: string };
  /** A step with child runs: what their usage charged the run so far (each charge adds the difference). */
  readonly charged?: Usage;
}

/** The input Claude proposed for a reviewed step's tool, kept in the snapshot so a restart loses nothing. */
export interface Review {
  readonly tool: string;
  /** The tool's input JSON Schema, as sent to the model. */
  readonly schema: Record<string, unknown>;
  readonly proposed: unknown;
  /** The step's prompt as the model was sent it for the attempt under review (bounded); absent in reviews recorded before it was kept. */
  readonly prompt?: string;
  /** When the proposal arrived: since then the step waits. */
  readonly since: number;
  /** The input approved (the proposal, or a person's edit of it); the tool runs with it. */
  readonly approved?: { readonly input: unknown };
}

/** A step that was never entered: no attempt, no retry. */
export const idleStep: StepRun = { attempt: 0, retryAt: null, enteredAt: 0 };

/** The attempts `run` made since its visit began or was last resumed: what the retry policy counts. */
export function attemptsSinceResume(run: StepRun): number {
  return run.attempt - (run.resumedAfter ?? 0);
}

/** The state of `step`'s current visit. */
export function stepRunOf(context: Pick<RunContext, 'active'>, step: string): StepRun {
  return context.active[step] ?? idleStep;
}

/** The fields of an invalid tool input that failed, with the model's value when it is a short scalar (else null). */
export type RejectedFields = Readonly<Record<string, string | number | boolean | null>>;

export interface RunContext {
  readonly input: unknown;
  readonly steps: Readonly<Record<string, StepResult>>;
  readonly trail: readonly TrailEntry[];
  readonly visits: Readonly<Record<string, number>>;
  /**
   * Per step entered (by step id): its attempt, pending retry and entry time.
   * Several steps can be active at once (parallel regions), each with its own.
   */
  readonly active: Readonly<Record<string, StepRun>>;
  readonly startedAt: number;
  readonly usage: Usage;
  readonly budget: ResolvedBudget;
  /**
   * Input tokens billed and estimated locally for the same requests, summed over
   * the run: the budget's projections are scaled by their ratio. Absent until a
   * model reply was billed (and in snapshots from before calibration).
   */
  readonly calibration?: Calibration;
  readonly failure: Failure | null;
  /**
   * The last failure of the current step, kept across its retries. After an
   * invalid tool input, `accepted` holds the top-level fields that passed
   * validation: the retry keeps them and asks the model only for the rest;
   * `rejected` the fields that failed, with the model's value when it is a
   * short scalar: the retry's context narrows to the parts that bear on them
   * (../steps/retry-context.ts).
   */
  readonly lastError: {
    readonly kind: FailureKind;
    readonly message: string;
    /** The step whose attempt failed (absent in runs stored before it was recorded): its retry reads the failure, other steps do not. */
    readonly step?: string;
    readonly accepted?: Readonly<Record<string, unknown>>;
    readonly rejected?: RejectedFields;
  } | null;
  /** Loop fingerprints of the tool inputs each step produced. */
  readonly fingerprints: Readonly<Record<string, readonly string[]>>;
  /** The last event a `wait` step received. */
  readonly event: { readonly type: string; readonly data: unknown } | null;
}

export interface MachineInput {
  readonly input: unknown;
  readonly budget: ResolvedBudget;
  readonly at: number;
}

export type { RunEvent, StepFailure } from './events.js';

export const FAILED_STATE = '$failed';
/** Where a run ends once its final step's output is evaluated (the machine's only `done` state but `$cancelled`). */
export const DONE_STATE = '$done';
export const CANCELLED_STATE = '$cancelled';

/**
 * The last failure as `step`'s retry reads it: its own step's, never another active step's (a sibling branch of a
 * parallel step failing meanwhile). A failure recorded without its step is read by any.
 */
export function lastErrorOf(context: Pick<RunContext, 'lastError'>, step: string): RunContext['lastError'] {
  const last = context.lastError;
  return last && (last.step === undefined || last.step === step) ? last : null;
}
