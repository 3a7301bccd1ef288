/**
 * The context and events of a compiled workflow machine. The context is all a
 * run needs to continue after a restart; it is persisted with every snapshot.
 */
import type { ResolvedBudget } from '../policy/budget.js';
import type { Failure, FailureKind, Usage } from '../run/types.js';

export type StepStatus = 'done' | 'failed' | 'waiting' | 'running' | 'skipped';

/** The latest result of a step, as `$steps.<id>` in expressions. */
export interface StepResult {
  readonly output: unknown;
  readonly status: StepStatus;
  readonly visit: number;
  readonly attempts: number;
  readonly error?: { readonly kind: FailureKind; readonly message: string };
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
  readonly startedAt: number;
  readonly endedAt: number | null;
}

export type { ResolvedBudget } from '../policy/budget.js';

export interface RunContext {
  readonly input: unknown;
  readonly steps: Readonly<Record<string, StepResult>>;
  readonly trail: readonly TrailEntry[];
  readonly visits: Readonly<Record<string, number>>;
  /** Attempt of the current step visit, from 1 once started. */
  readonly attempt: number;
  /** Due time of the pending retry backoff. */
  readonly retryAt: number | null;
  /** When the current step was entered. */
  readonly enteredAt: number;
  readonly startedAt: number;
  readonly usage: Usage;
  readonly budget: ResolvedBudget;
  readonly failure: Failure | null;
  /** The last failure of the current step, kept across its retries. */
  readonly lastError: { readonly kind: FailureKind; readonly message: string } | null;
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

/** A step's failure as the executor reports it. */
export interface StepFailure {
  readonly kind: FailureKind;
  readonly message: string;
}

export type RunEvent =
  | { readonly type: 'step.run'; readonly at: number; readonly projectedTokens: number; readonly projectedUsd: number }
  | {
      readonly type: 'step.done';
      readonly at: number;
      readonly output: unknown;
      readonly usage: Usage;
      readonly fingerprint?: string;
    }
  | {
      readonly type: 'step.failed';
      readonly at: number;
      readonly usage: Usage;
      readonly error: StepFailure;
      readonly retryable: boolean;
      readonly retryAt: number | null;
      readonly fingerprint?: string;
    }
  | { readonly type: 'step.retry'; readonly at: number }
  | { readonly type: 'choice.take'; readonly at: number; readonly index: number }
  | { readonly type: 'wait.timeout'; readonly at: number }
  | { readonly type: 'run.resume'; readonly at: number; readonly budget: ResolvedBudget }
  | { readonly type: 'run.cancel'; readonly at: number; readonly reason: string }
  | { readonly type: 'run.deadline'; readonly at: number }
  | { readonly type: 'final.done'; readonly at: number }
  | { readonly type: 'final.failed'; readonly at: number; readonly message: string }
  | { readonly type: `${Uppercase<string>}`; readonly at: number; readonly data?: unknown };

export const FAILED_STATE = '$failed';
/** Where a run ends once its final step's output is evaluated (the machine's only `done` state but `$cancelled`). */
export const DONE_STATE = '$done';
export const CANCELLED_STATE = '$cancelled';
