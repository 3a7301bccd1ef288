/**
 * What a step executor is given and what it reports. Executors do the I/O of a
 * step (expressions, model call, tool call); the machine decides what follows.
 */
import type { RejectedFields, RunContext, StepFailure } from '../compile/context.js';
import type { Workflow } from '../definition/schema.js';
import type { ModelConfig } from '../model/client.js';
import type { CallProjection, ToolCallRequest } from '../model/call.js';
import type { Calibration } from '../policy/calibration.js';
import type { Usage } from '../run/types.js';
import type { AnyTool } from '../tools/define.js';
import type { Scope } from '../expr/index.js';
import type { BreakerChange, Breakers } from '../engine/breakers.js';
import type { Clock } from '../engine/clock.js';

/** The breakers a step sees: the engine's shared service and the journal sink of its run. */
export interface StepBreakers {
  readonly service: Breakers;
  readonly onChange: (change: BreakerChange) => void;
}

export interface StepEnv {
  readonly runId: string;
  readonly stepId: string;
  readonly visit: number;
  readonly attempt: number;
  readonly workflow: Workflow;
  readonly context: RunContext;
  readonly tools: ReadonlyMap<string, AnyTool>;
  readonly model: ModelConfig;
  readonly signal: AbortSignal;
  /**
   * Whether the attempt was stopped from outside it (its step aborted by a sibling branch's failure, a cancel, the
   * drive's end), read without making `signal`; its own timeout is not such a stop.
   */
  readonly aborted?: () => boolean;
  /**
   * Awaited by a step's `prepare` before it waits on something outside the process (a count_tokens request): a
   * new run its first commit has not stored yet is stored then, so a `cancel` finds it (and aborts `signal`)
   * while the step waits. A failure here is the drive's, not the step's: the step does not fail with it.
   */
  readonly beforeWaiting?: () => Promise<void>;
  /** The engine's clock, which bounds a `claude` step's tool call by the step's `timeout`; the system clock without it. */
  readonly clock?: Clock;
  /** The engine's shared circuit breakers; without them tools are called unguarded. */
  readonly breakers?: StepBreakers;
  /** The largest output (and model reply) a step may hand back, as JSON bytes; default 4 MiB. */
  readonly maxOutputBytes?: number;
  /**
   * The budget the attempt shares with the steps and runs beside it (the engine's pool): continuations of its model
   * call are checked and reserved there; without it, against `context.usage` and the run's own budget.
   */
  readonly budget?: AttemptBudget;
  /**
   * Told of what the attempt is billed as it is billed (each model reply, with the local count of its request), so
   * an attempt ended from outside it (a cancel, a sibling branch's failure, the drive's end) still charges the run
   * what it spent before it ended.
   */
  readonly spent?: (usage: Usage, estimatedInput: number) => void;
}

/** The budget an attempt shares with the steps and runs beside it (see ../engine/budget-pool.ts). */
export interface AttemptBudget {
  /** The calibration to project with beside the run's own: the highest ratio its parents or its family of runs know. */
  calibration(): Calibration | undefined;
  /**
   * Makes the attempt's reservation cover `needed` (what it has been billed so far plus its next continuation),
   * if the budget can grant what that adds; null when it does, else why not.
   */
  extend(needed: { readonly tokens: number; readonly usd: number }): string | null;
}

/** A model call's cost before the budget takes it, in the forms the engine chooses from (../steps/model-step.ts `callEstimate`). */
export interface CallEstimate {
  /** The request's local input estimate. */
  readonly estimatedInput: number;
  /** Its projection with the estimate scaled by `calibration` (1× with none). */
  at(calibration: Calibration | undefined): CallProjection;
  /** Its projection with the estimate taken at the spread assumed before any ratio is known (1.5×). */
  spread(): CallProjection;
  /** Asks the model server for the exact input count: the count and the projection from it, or null when there is none to trust. */
  exact(): Promise<{ readonly counted: number; readonly projection: CallProjection } | null>;
}

/** A step made ready to run: its model request (if any) and the projected cost the budget guard checks. */
export interface PreparedStep {
  readonly request: ToolCallRequest | null;
  /** The tool input of a `tool` step, already evaluated. */
  readonly toolInput?: unknown;
  readonly projectedTokens: number;
  readonly projectedUsd: number;
  /** A model call's estimate, from which the engine projects it (`projectedTokens` is it at the run's own calibration). */
  readonly estimate?: CallEstimate;
  /** What the prompt tells Claude about the previous attempt's failure, journaled with the attempt. */
  readonly feedback?: string;
  /** The prompt's context was narrowed to the fields the previous attempt got wrong (../steps/retry-context.ts). */
  readonly narrowedContext?: boolean;
  /** A model step's `prompt` as this attempt sends it (templates evaluated), without context, summary or feedback. */
  readonly instructions?: string;
}

/** `estimatedInput`: the local count of the input billed in `usage` (model steps), for the budget's calibration. */
export type StepOutcome =
  | {
      readonly ok: true;
      readonly output: unknown;
      readonly input?: unknown;
      readonly usage: Usage;
      readonly estimatedInput?: number;
      readonly latencyMs: number;
      readonly fingerprint?: string;
      /** The tool did not run: its valid input (`input`) awaits a person's review; `prompt` is the step's prompt as sent, bounded. */
      readonly review?: { readonly tool: string; readonly schema: Record<string, unknown>; readonly prompt?: string };
    }
  | {
      readonly ok: false;
      readonly error: StepFailure;
      readonly retryable: boolean;
      readonly input?: unknown;
      readonly usage: Usage;
      readonly estimatedInput?: number;
      readonly latencyMs: number;
      readonly fingerprint?: string;
      /** An invalid tool input's fields that passed validation: the next attempt keeps them and asks only for the rest. */
      readonly accepted?: Readonly<Record<string, unknown>>;
      /** The fields that failed, with the model's value when a short scalar: the next attempt's context may narrow to them. */
      readonly rejected?: RejectedFields;
    };

export interface StepExecutor {
  prepare(env: StepEnv): Promise<PreparedStep>;
  execute(env: StepEnv, prepared: PreparedStep): Promise<StepOutcome>;
}

/** The expression scope of a run: `$input`, `$steps`, `$event`, `$run`. */
export function scopeOf(env: Pick<StepEnv, 'runId' | 'context'>): Scope {
  return {
    input: env.context.input,
    steps: env.context.steps as Record<string, unknown>,
    event: env.context.event ?? undefined,
    run: { id: env.runId, usage: env.context.usage },
  };
}
