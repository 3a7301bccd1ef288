/**
 * What the handlers of a run's active steps share while the driver runs it:
 * the actor (through `send` and `context`), one journal and one commit queue,
 * the run's dependencies and options. One scope per drive of a run.
 */
import type { RunContext } from '../compile/context.js';
import type { RunEvent } from '../compile/events.js';
import type { Workflow } from '../definition/schema.js';
import type { ModelConfig } from '../model/client.js';
import type { JournalEntry, NewJournalEntry, RunRecord, RunStatus } from '../run/types.js';
import type { PreparedStep, StepEnv } from '../steps/types.js';
import type { AnyTool } from '../tools/define.js';
import type { Breakers } from './breakers.js';
import type { Clock } from './clock.js';
import type { BudgetPool, Reservation } from './budget-pool.js';
import type { ChildRuns } from './children.js';
import type { CancelSource } from './step-abort.js';

/** Where a journal entry belongs: the step, its visit and its attempt. */
export interface Where {
  readonly step: string;
  readonly visit: number;
  readonly attempt: number;
}

/** How far a drive goes (`DriveOptions.mode` in ./driver.ts). */
export type DriveMode = 'rest' | 'step' | 'due';

export interface RunScope {
  readonly runId: string;
  readonly workflow: Workflow;
  readonly tools: ReadonlyMap<string, AnyTool>;
  readonly model: ModelConfig;
  readonly clock: Clock;
  /** `rest`: until the run rests; `step`: execute at most one step; `due`: fire what is due, start no work (see `DriveOptions.mode`). */
  readonly mode: DriveMode;
  readonly signal: AbortSignal | undefined;
  /** The drive's graceful stop (a drain): its child runs' drives get it too, and stop at their own step boundaries. */
  readonly stop: AbortSignal | undefined;
  /** Aborted when a cancel of the run is requested while the drive lasts (listening to it costs no `AbortController`). */
  cancel(): CancelSource | undefined;
  /** The same as an `AbortSignal` (made when first asked for), for what needs one: a child run's drive. */
  cancelSignal(): AbortSignal | undefined;
  /** The abort signal of `step`'s current attempt, aborted by {@link abortStep}. */
  stepSignal(step: string): CancelSource;
  /** Aborts `step`'s running attempt, if any (a sibling branch failed): the attempt ends as cancelled. */
  abortStep(step: string, reason: string): void;
  /** The run's token budget shared by its concurrent model steps. */
  readonly budget: BudgetPool;
  /** Reservations of prepared model attempts, by `step:visit:attempt`, between their start and their settling. */
  readonly reservations: Map<string, Reservation>;
  /** The largest output a step may produce, as JSON bytes. */
  readonly maxOutputBytes: number;
  /** Awaited before each model call with its projected tokens (the shared rate limit). */
  readonly beforeModelCall: ((projectedTokens: number, signal?: AbortSignal) => Promise<void>) | undefined;
  readonly breakers: Breakers | undefined;
  /** Path tests only: the branch a choice of run `runId` takes, replacing the one its conditions picked. */
  readonly chooseBranch: ((step: string, runId: string) => number | undefined) | undefined;
  /** Path tests only: whether a step that starts child runs of run `runId` fails as it starts. */
  readonly forceFailure: ((step: string, runId: string) => boolean) | undefined;
  /** Prepared attempts, by `step:visit:attempt`, between their start and their execution. */
  readonly prepared: Map<string, PreparedStep>;
  /** The run's context now. */
  context(): RunContext;
  /** The events `step` accepts from outside the run in its phase now. */
  acceptsOf(step: string): string[];
  /** The active phase of `step` (null for a simple state), or undefined when the step is not active. */
  phaseOf(step: string): string | null | undefined;
  /** Whether the machine reached its final state: the run is done. */
  finished(): boolean;
  /** When the run must be looked at again by itself, as the next commit stores it. */
  wakeAt(): number | null;
  /**
   * The run's record as this drive knows it: as its last commit stored it, or, before its first commit creates
   * it (a new map item, a run just started), as that commit will. Under the drive's lease nothing else changes it.
   */
  record(): RunRecord;
  /** The run's stored status (as of the last commit). */
  status(): RunStatus;
  /** The run's snapshot now, in its stored form (what the next commit would store). */
  persisted(): unknown;
  /** Sends the machine an event (the run is then dirty). */
  send(event: RunEvent): void;
  /** Adds an entry to the journal of the next commit. */
  note(entry: Omit<NewJournalEntry, 'at'> & { at?: number }): void;
  /** The run's journal as stored. */
  journal(): Promise<readonly JournalEntry[]>;
  /** Commits the snapshot with the journal, in order with every other commit of the run. */
  commit(output?: unknown): Promise<void>;
  /** Stores a new run its first commit has not stored yet (that commit, now); nothing for a stored run. */
  ensureStored(): Promise<void>;
  /**
   * Waits until the effects in flight of steps other than `step` (other branches) have settled and sent their
   * results; false at once when there are none. A step that ends the run (a `final` inside a branch) waits first,
   * so nothing of the run is still running, or commits, once its last commit has let go of the lease.
   */
  othersSettled(step: string): Promise<boolean>;
  /** Throws `LeaseLostError` (the drive stops, committing nothing) when the caller's lease on the run is gone. */
  holdLease(): Promise<void>;
  where(step: string): Where;
  /** The environment of `step`'s current attempt, a fresh object; `attempt.signal`, the attempt's own, is read only when the step reads its signal. */
  envFor(step: string, attempt?: { readonly signal: AbortSignal }): StepEnv;
  /** Whether this drive sleeps through timers (else it returns with the run's `wakeAt` set). */
  readonly sleepTimers: boolean;
  /** The engine's child runs (`workflow` and `map` steps), when it has them. */
  readonly children: ChildRuns | undefined;
  /** Steps executed in this drive. */
  executed(): number;
  countExecuted(): void;
}
