/**
 * Drives one run: restores its actor from the stored snapshot and advances
 * the set of its active steps until the run rests. Each active step (one per
 * parallel region) is advanced by the handler of its kind (src/kinds): a work
 * step is prepared and started, then executed as an effect that may run
 * beside the effects of other active steps; a choice is evaluated; a wait or a
 * final step rests. Handlers send their results to the one actor and journal
 * through one scope, whose commits go through one queue: the snapshot and the
 * journal entries since the last commit in one transaction, at every point a
 * crash must not lose (an attempt's start, a completed step whose region has
 * nothing to start next, the run coming to rest). A completed step is
 * committed together with the start of the next one, so each step costs one
 * transaction. Choice steps and waits that time out at once need no
 * transaction of their own, but a long run of them still commits at least
 * every {@link COMMIT_EVERY} transitions, so progress and its journal are
 * written in bounded batches.
 */
import { createActor, type AnyMachineSnapshot, type InspectionEvent, type Observer } from 'xstate';
import { stepRunOf, type MachineInput, type RunContext } from '../compile/context.js';
import type { RunEvent } from '../compile/events.js';
import type { Workflow } from '../definition/schema.js';
import type { WorkflowMachine } from '../compile/machine.js';
import { kindNamed, kindOf } from '../kinds/index.js';
import { anyStep, stepOf } from '../definition/sequences.js';
import type { ActiveStep, Advance } from '../kinds/types.js';
import type { ModelConfig } from '../model/client.js';
import { finishedStatuses, type NewJournalEntry, type RunRecord } from '../run/types.js';
import type { PreparedStep, StepEnv } from '../steps/index.js';
import { LeaseLostError, RunExistsError, type Store } from '../store/types.js';
import type { LeaseHandle } from './lease.js';
import { clockTimer, type Clock } from './clock.js';
import { crashPoint } from './crash-points.js';
import { deadlineAt, isLive, positionOf, runStatusOf, waitEvents, type EndState } from './position.js';
import type { Runtime } from './runtime.js';
import type { DriveMode, RunScope } from './scope.js';
import { traceRun } from '../observe/tracing.js';
import type { Breakers } from './breakers.js';
import { upgradeSnapshot } from './upgrade.js';
import { persistedSnapshot, restoreActor } from './persisted.js';
import { runActor, type RunActor } from './run-actor.js';
import type { CancelRequest, CancelRequests, CancelWatch } from './cancel-requests.js';
import { isResumable } from './view.js';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../run/storable.js';
import { createBudgetPool, type BudgetPool, type OwnBudget } from './budget-pool.js';
import type { ChildRuns } from './children.js';
import { abortSignalOf, StepAbort } from './step-abort.js';
import { anySignal } from './any-signal.js';
import { whenAborted } from './when-aborted.js';

export interface DriveOptions {
  /**
   * `rest`: until the run waits, finishes or fails; `step`: execute at most one step; `due`: fire only what is due (a
   * wait's timeout, the deadline, a retry's or a child run's timer) and take the transitions that follow (choices,
   * waits, the end), starting no work: a step that would call a tool or the model, or start child runs, stays where
   * it is (what `send` and `cancel` fire first). Child runs are driven in the mode of their parent.
   */
  readonly mode: DriveMode;
  /** Sleep through retry backoffs (true) or return with the run's `wakeAt` set (false). */
  readonly sleepTimers: boolean;
  readonly signal?: AbortSignal;
  /**
   * Graceful stop (a draining worker or server): commit what is done at the next step boundary and return. It ends a
   * backoff the drive sleeps through and passes to the drives of child runs (a map's items stop at their own step
   * boundaries); it aborts no step in flight.
   */
  readonly stop?: AbortSignal;
  /**
   * The lease the caller holds on the run: checked right before and right after
   * every step execution (tool or model call), and named in every commit, so a
   * driver whose run was taken over meanwhile stops with {@link LeaseLostError}
   * and commits nothing.
   */
  readonly lease?: Pick<LeaseHandle, 'owner' | 'check'>;
  /** The run's cancel request (null: none) as read with the claim that leased it: the drive does not read it again. */
  readonly cancelRequest?: CancelRequest | null;
  /** An event to deliver first, with the journal entries that describe it. */
  readonly event?: { readonly event: RunEvent; readonly journal: readonly NewJournalEntry[] };
  /**
   * The run is not in the store yet (a run just started, a map item's new run): its machine starts from
   * `input`, and its first commit creates it (`journal` first), so a new run costs one write instead of a
   * create and a commit. Its first commit comes before any step executes (an attempt's start is committed, and
   * the driver commits before any effect runs), and a drive that ends before one creates it as it is, so the
   * run exists once the drive returns. A first commit that finds the run made already throws {@link RunExistsError}.
   */
  readonly create?: {
    readonly input: MachineInput;
    readonly journal: readonly NewJournalEntry[];
    /** The run's lease (`record.lease`) runs this long from the moment the run is stored, not from when the drive began. */
    readonly leaseMs?: number;
    /** Called once the first commit has stored the run: from then on it is this drive's. */
    readonly onCreated?: () => void;
  };
  /**
   * The run's actor, started by the caller at the state `record.snapshot`
   * persists (a run it has just created): driven instead of one restored from
   * the snapshot, and stopped when the drive ends.
   */
  readonly actor?: RunActor;
}

export interface DriverDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly model: ModelConfig;
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Called after every commit with the run as stored and the journal entries that commit appended. */
  readonly onCommit: (record: RunRecord, journal: readonly NewJournalEntry[]) => void;
  /** Awaited before each model call with its projected tokens (the shared rate limit). */
  readonly beforeModelCall?: (projectedTokens: number, signal?: AbortSignal) => Promise<void>;
  /** The engine's circuit breakers, shared by its runs through the store. */
  readonly breakers?: Breakers;
  /**
   * Path tests only (`stepwise test`): the branch a choice takes, whatever its
   * conditions say. The conditions are still evaluated (an error still fails
   * the choice); a number returned here replaces the branch they picked. Asked
   * with the id of the run the choice is in, a child run's too (they share the
   * engine), so a path's decisions can be kept to the run it is a path of.
   */
  readonly chooseBranch?: (step: string, runId: string) => number | undefined;
  /**
   * Path tests only (`stepwise test`): whether a step that starts child runs (`workflow`, `map`) of run `runId`
   * fails as it starts, starting none (its error route). Other steps fail at their effect (the tool throws, the
   * model call is refused), which the path test arranges through the tools and the model client it passes.
   */
  readonly forceFailure?: (step: string, runId: string) => boolean;
  /** Cancel requests of the runs on the store: a drive that sees one for its run cancels it. */
  readonly cancels?: CancelRequests;
  /** The largest step output (or model reply) that may reach the machine and the store, as JSON bytes. */
  readonly maxOutputBytes?: number;
  /** Child runs of `workflow` and `map` steps, driven inside this drive under the parent's lease. */
  readonly children?: ChildRuns;
  /** The run's budget pool from its own budget and usage (a child's: tied to its parent's pool); default a pool of its own. */
  readonly budgetPool?: (own: OwnBudget) => BudgetPool;
}

const MAX_TRANSITIONS = 100_000;

/** Why the steps in flight are aborted when the deadline passes (their attempts' `cancelled` entries say so). */
const DEADLINE_PASSED = 'the workflow deadline passed';

/** Transitions a run may make without a commit: choices and timed-out waits are committed in batches of at most this many. */
export const COMMIT_EVERY = 64;

/** The active steps of a machine snapshot: its active state nodes that carry `meta.stepwise.kind` of a registered kind. */
export function activeSteps(snapshot: AnyMachineSnapshot): { steps: ActiveStep[]; end: EndState } {
  const nodes = snapshot._nodes;
  const steps: ActiveStep[] = [];
  let end: EndState = null;
  for (const node of nodes) {
    const kind = (node.meta as { stepwise?: { kind?: string } } | undefined)?.stepwise?.kind;
    if (kind === 'failed' || kind === 'cancelled' || kind === 'done') end = kind;
    if (!kindNamed(kind)) continue;
    const child = nodes.find((n) => n.parent === node);
    steps.push({ id: node.key, kind: kind!, phase: child ? child.key : null });
  }
  return { steps, end };
}

const none: readonly string[] = [];

/** Whether a workflow has steps that hold branches (`parallel`), at any depth: known once per loaded workflow. */
const holdsBranches = anyStep((step) => kindNamed(kindOf(step)?.name)?.sequences !== undefined);

/** When the run must be looked at again by itself: a backoff, a wait timeout, the deadline. */
export function wakeAtOf(workflow: Workflow, steps: readonly ActiveStep[], context: RunContext): number | null {
  let wake: number | null = null;
  const earliest = (at: number | null | undefined) => {
    if (at !== null && at !== undefined) wake = wake === null ? at : Math.min(wake, at);
  };
  for (const step of steps) {
    const spec = stepOf(workflow, step.id);
    if (spec) earliest(kindNamed(step.kind)?.wakeAt?.(step.id, spec, step.phase, context));
  }
  if (steps.some(isLive)) earliest(deadlineAt(workflow, context));
  return wake;
}

export function drive(deps: DriverDeps, runtime: Runtime, record: RunRecord, options: DriveOptions): Promise<RunRecord> {
  return traceRun(record, () => driveRun(deps, runtime, record, options));
}

async function driveRun(deps: DriverDeps, runtime: Runtime, record: RunRecord, options: DriveOptions): Promise<RunRecord> {
  const { store, clock } = deps;
  const workflow = runtime.definition.workflow;
  // A child run's actor is named by its run id (parent run, step, item) so the inspector tells the actors of a
  // map's items and sub-workflows apart; a top-level run's keeps the machine's name.
  const named = record.options.parent ? { id: record.id } : {};
  const inspect = deps.inspect ? { inspect: deps.inspect, ...named } : named;
  // An inspector sees the run's XState actor; without one the machine is driven by a lighter one (./run-actor.ts).
  const actor: RunActor =
    options.actor ??
    (deps.inspect
      ? options.create
        ? createActor(runtime.machine, { input: options.create.input, ...inspect })
        : restoreActor(runtime.machine, upgradeSnapshot(record.snapshot), inspect)
      : runActor(runtime.machine, options.create ? { input: options.create.input } : { snapshot: upgradeSnapshot(record.snapshot) }));
  actor.start(); // a no-op for a started actor
  /** The journal entries that open the run, while it is not in the store yet. */
  let unsaved = options.create?.journal ?? null;
  let current = record;
  let journal: NewJournalEntry[] = [];
  let dirty = false;
  /** Transitions since the last commit. */
  let uncommitted = 0;
  let executed = 0;
  let queue: Promise<unknown> = Promise.resolve();

  const where = (step: string) => ({ step, visit: context().visits[step] ?? 0, attempt: stepRunOf(context(), step).attempt });
  const context = () => actor.getSnapshot().context;
  // The active steps of the actor's snapshot, worked out once per snapshot: the loop, the status, the wake time
  // and the handlers all ask for them, several times per transition.
  let seen: AnyMachineSnapshot | null = null;
  let seenActive: ReturnType<typeof activeSteps> = { steps: [], end: null };
  const active = () => {
    const snapshot = actor.getSnapshot();
    if (snapshot !== seen) {
      seenActive = activeSteps(snapshot);
      seen = snapshot;
    }
    return seenActive;
  };
  const status = () => {
    const { steps, end } = active();
    return runStatusOf(steps, end, actor.getSnapshot().status === 'done');
  };
  const wakeAt = () => wakeAtOf(workflow, active().steps, context());
  const note = (entry: Omit<NewJournalEntry, 'at'> & { at?: number }) => journal.push({ at: clock.now(), ...entry });
  const commitNow = async (output?: unknown) => {
    const entries = journal;
    journal = [];
    dirty = false;
    uncommitted = 0;
    const patch = {
      status: status(),
      snapshot: persistedSnapshot(actor),
      ...(output !== undefined ? { output } : {}),
      failure: context().failure,
      usage: context().usage,
      wakeAt: wakeAt(),
      options: current.options,
    };
    if (unsaved) {
      const opening = unsaved;
      unsaved = null;
      const leaseMs = options.create?.leaseMs;
      const lease = current.lease && leaseMs !== undefined ? { owner: current.lease.owner, until: clock.now() + leaseMs } : current.lease;
      const created = await store.create({ ...current, ...patch, lease }, [...opening, ...entries]);
      if (!created.created) throw new RunExistsError(current.id, created.run.revision);
      current = created.run;
      options.create?.onCreated?.();
    } else {
      current = await store.commit(current.id, patch, entries, current.revision, options.lease?.owner);
    }
    deps.onCommit(current, entries);
  };
  // One queue: commits of concurrent steps go to the store one after the other, each with the next revision.
  const commit = (output?: unknown): Promise<void> => {
    const next = queue.then(() => commitNow(output));
    queue = next.catch(() => undefined);
    return next;
  };

  const maxOutputBytes = deps.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  let watch: CancelWatch | null = null;
  /** A cancel requested while this drive lasts: it cancels the run at the next step boundary, or at once mid-step. */
  const cancelling = (): boolean => {
    if (!watch?.request()) return false;
    const now = status();
    return !finishedStatuses.includes(now) || (now === 'failed' && isResumable(now, context().failure, positionOf(workflow, actor.getSnapshot())));
  };
  /** Stops the drive, committing nothing, when the caller's lease on the run is gone. */
  const holdLease = async () => {
    if (!options.lease || (await options.lease.check())) return;
    throw new LeaseLostError(current.id, options.lease.owner, (await store.get(current.id))?.lease?.owner ?? null);
  };
  const cancelRun = async () => {
    const request = watch?.request();
    const at = clock.now();
    const reason = request?.reason ?? 'cancelled';
    run.send({ type: 'run.cancel', at, reason });
    journal.push({ step: null, visit: 0, attempt: 0, event: 'cancelled', at, data: { reason } });
    await commit();
    await deps.cancels?.clear(current.id).catch(() => {});
  };

  const branching = holdsBranches(workflow);
  /** Steps holding branches whose visit is open (a parallel step whose branches run); none in a workflow without such steps. */
  const openContainers = (): readonly string[] => {
    if (!branching) return none;
    const open: string[] = [];
    for (const e of context().trail) if (e.endedAt === null && isContainer(e.id)) open.push(e.id);
    return open;
  };
  // Whether a step holds branches depends on the definition only: looked up once per step.
  const containers = new Map<string, boolean>();
  const isContainer = (id: string) => {
    let found = containers.get(id);
    if (found === undefined) containers.set(id, (found = kindNamed(kindOf(stepOf(workflow, id) ?? {})?.name)?.sequences !== undefined));
    return found;
  };
  // Abort signals of step attempts, by step: a failed branch aborts its siblings' attempts (fail_fast).
  const aborts = new Map<string, StepAbort>();
  const stepAbort = (step: string) => {
    let abort = aborts.get(step);
    if (!abort || abort.aborted) aborts.set(step, (abort = new StepAbort()));
    return abort;
  };

  const run: RunScope = {
    runId: current.id,
    workflow,
    tools: runtime.tools,
    model: deps.model,
    clock,
    mode: options.mode,
    signal: options.signal,
    stop: options.stop,
    cancel: () => watch?.source,
    cancelSignal: () => watch?.signal,
    stepSignal: stepAbort,
    abortStep: (step, reason) => {
      aborts.get(step)?.abort(new Error(reason));
      aborts.delete(step);
    },
    budget: (deps.budgetPool ?? createBudgetPool)({ budget: () => context().budget, spent: () => context().usage, calibration: () => context().calibration }),
    reservations: new Map(),
    maxOutputBytes,
    beforeModelCall: deps.beforeModelCall,
    breakers: deps.breakers,
    chooseBranch: deps.chooseBranch,
    forceFailure: deps.forceFailure,
    prepared: new Map<string, PreparedStep>(),
    context,
    phaseOf: (step) => active().steps.find((s) => s.id === step)?.phase,
    acceptsOf: (step) => waitEvents(workflow, step, active().steps.find((s) => s.id === step)?.phase ?? null),
    finished: () => actor.getSnapshot().status === 'done',
    wakeAt,
    record: () => current,
    status: () => current.status,
    persisted: () => persistedSnapshot(actor),
    send: (event) => {
      const open = openContainers();
      actor.send(event);
      dirty = true;
      if (open.length === 0) return;
      // A parallel step ends inside the machine when its last branch does: journal its completion with its output.
      for (const id of open) {
        const result = context().steps[id];
        if (!openContainers().includes(id) && result?.status === 'done') note({ ...where(id), event: 'completed', output: result.output });
      }
    },
    note,
    commit,
    ensureStored: () => (unsaved ? commit() : Promise.resolve()),
    othersSettled: async (step) => {
      const others: Array<Promise<void>> = [];
      for (const [id, effect] of inflight) if (id !== step) others.push(effect);
      if (others.length === 0) return false;
      // A sibling that failed (a lost lease, a store error) fails the drive, as it would where the loop awaits it.
      for (const settled of await Promise.allSettled(others)) if (settled.status === 'rejected') throw settled.reason;
      return true;
    },
    journal: () => store.journal(current.id),
    holdLease,
    where,
    envFor: (step, attempt): StepEnv => {
      const ctx = context();
      let ownSignal: AbortSignal | undefined;
      // What stops the attempt from outside it: its step's abort (a sibling branch failed), a cancel, the drive's end.
      let stepAborted = aborts.get(step);
      return {
        runId: current.id,
        stepId: step,
        visit: ctx.visits[step] ?? 1,
        attempt: Math.max(stepRunOf(ctx, step).attempt, 1),
        workflow,
        context: ctx,
        tools: runtime.tools,
        model: deps.model,
        // The attempt's own signal; before the attempt (its prepare, which may ask count_tokens) one aborted by what
        // stops the step from outside, made only when the step reads it.
        get signal() {
          if (attempt) return attempt.signal;
          if (ownSignal) return ownSignal;
          stepAborted ??= stepAbort(step);
          ownSignal = anySignal(options.signal, watch?.signal, abortSignalOf(stepAborted)) as AbortSignal;
          return ownSignal;
        },
        aborted() {
          return stepAborted?.aborted === true || watch?.source.aborted === true || options.signal?.aborted === true;
        },
        maxOutputBytes,
        clock,
        ...(deps.breakers
          ? { breakers: { service: deps.breakers, onChange: (change) => note({ ...where(step), at: change.at, event: 'breaker', data: change }) } }
          : {}),
      };
    },
    sleepTimers: options.sleepTimers,
    children: deps.children,
    executed: () => executed,
    countExecuted: () => {
      executed++;
    },
  };

  // Effects in flight, by step; each settles after sending its result to the machine.
  const inflight = new Map<string, Promise<void>>();
  /** Effects settled so far: one that settles while the loop awaits something else (a commit) is seen by the count. */
  let settledEffects = 0;
  /**
   * Waits until an effect in flight settles or the earliest timer comes: one of a resting step (a branch's retry
   * backoff, a wait's timeout, a resting child's timer) or the run's `deadline` (null: none, or no step is live),
   * whichever is first: a branch's timer does not wait for its siblings' calls, and the deadline not for the calls in
   * flight (the loop then aborts them); a graceful stop ends the wait too (the loop then lets the effects in flight
   * finish). The timer does not move a manual clock, and it is let go as soon as the race is over.
   */
  const settledOrDue = async (rests: ReadonlyArray<Extract<Advance, { kind: 'rest' }>>, deadline: number | null): Promise<void> => {
    let due = deadline;
    for (const r of rests) if (r.wakeAt !== null && r.wakeAt !== undefined && (due === null || r.wakeAt < due)) due = r.wakeAt;
    const stop = options.stop;
    if (due === null && !stop) return void (await Promise.race(inflight.values()));
    if (stop?.aborted) return;
    // Lets go of the timer and of the listener on the stop (which outlives this drive: the engine's) once the race is over.
    const over = new AbortController();
    const waits: Array<Promise<unknown>> = [...inflight.values()];
    if (due !== null) waits.push(clockTimer(clock, due - clock.now(), over.signal));
    // One listener on the stop however many drives wait on it (./when-aborted.ts).
    if (stop) waits.push(whenAborted(stop, over.signal));
    try {
      await Promise.race(waits);
    } finally {
      over.abort();
    }
  };

  let transitions = 0;
  try {
    watch = deps.cancels?.watch(current.id) ?? null;
    // A run not in the store yet (a new child run) cannot have a request from before this drive.
    if (watch && unsaved === null) await watch.check(options.cancelRequest);
    if (options.event) {
      run.send(options.event.event);
      journal.push(...options.event.journal);
    }
    for (; transitions < MAX_TRANSITIONS; transitions++, uncommitted++) {
      if (options.signal?.aborted) {
        if (options.signal.reason instanceof LeaseLostError) throw options.signal.reason;
        // Stopped by its parent (a child run whose parent's step was aborted or cancelled), not by a lost lease: what
        // its steps did until they stopped (what an aborted attempt was billed) is kept.
        await Promise.allSettled(inflight.values());
        if (dirty) await commit();
        break;
      }
      if (cancelling()) {
        await Promise.allSettled(inflight.values());
        await cancelRun();
        break;
      }
      if (options.stop?.aborted) {
        await Promise.allSettled(inflight.values());
        if (dirty) await commit();
        break;
      }
      const { steps, end } = active();
      const read = actor.getSnapshot();
      const settledBefore = settledEffects;
      // Choices and waits that time out at once commit nothing themselves: write them in bounded batches.
      if (dirty && uncommitted >= COMMIT_EVERY && steps.some((s) => !kindNamed(s.kind)?.flows)) await commit();
      const now = clock.now();
      const deadline = deadlineAt(workflow, context());
      const live = steps.filter(isLive);
      if (deadline !== null && live.length > 0 && now >= deadline) {
        // The effects in flight are cut short by their step's abort, as a sibling branch's failure cuts them: an
        // attempt ends `cancelled` (its tool's signal aborted, a call that ignores it left behind), a child run stops
        // and what it spent is charged. The run fails at its deadline, not when they would have settled.
        for (const step of inflight.keys()) run.abortStep(step, DEADLINE_PASSED);
        await Promise.allSettled(inflight.values());
        run.send({ type: 'run.deadline', at: now });
        note({ ...where(live[0]!.id), event: 'failed', error: { kind: 'deadline', message: DEADLINE_PASSED } });
        await commit();
        break;
      }
      if (end) {
        // failed, cancelled or done; a choice or wait entered past its visit limit fails the run as a loop.
        await Promise.allSettled(inflight.values());
        const failure = context().failure;
        if (dirty && end === 'failed' && failure?.kind === 'loop' && failure.step !== null) {
          note({ ...where(failure.step), event: 'loop_detected', error: { kind: 'loop', message: failure.message } });
        }
        if (dirty) await commit();
        break;
      }

      let moved = false;
      let stop = false;
      const rests: Array<Extract<Advance, { kind: 'rest' }>> = [];
      for (const step of steps) {
        // An effect sent its result while this loop awaited (a commit, an earlier step's handler): the machine moved and
        // `steps` is stale (the step that completed still looks `running`, and would run again): look at them again.
        if (actor.getSnapshot() !== read) {
          moved = true;
          break;
        }
        if (inflight.has(step.id)) continue;
        const spec = stepOf(workflow, step.id);
        const kind = kindNamed(step.kind);
        if (!spec || !kind) throw new Error(`no step "${step.id}" of kind "${step.kind}" in ${workflow.id}`);
        const advance = await kind.handler.advance(run, step, spec);
        if (advance.kind === 'moved') {
          moved = true;
          break; // the machine moved: look at the active steps again
        }
        if (advance.kind === 'stop') {
          stop = true;
          break;
        }
        if (advance.kind === 'effect') {
          // A run its first commit creates exists before any effect runs: an effect may read it (a map or a
          // sub-workflow reads its parent run), and what it does must be the run's. A step that commits its
          // start first (a tool or model step) has created it already.
          if (unsaved) await commit();
          const effect = advance.run().finally(() => {
            inflight.delete(step.id);
            settledEffects++;
          });
          // Its failure (a lost lease) surfaces where the loop awaits it; not an unhandled rejection meanwhile.
          effect.catch(() => undefined);
          inflight.set(step.id, effect);
          continue;
        }
        rests.push(advance);
      }
      if (stop) {
        await Promise.allSettled(inflight.values());
        if (dirty) await commit();
        break;
      }
      if (moved) continue;
      if (inflight.size > 0) {
        // A step that completed while others run, and whose region has nothing to start, is committed now.
        if (dirty) await commit();
        // An effect that settled since the steps were looked at (during that commit, say) has sent its result: look
        // again now, not when the next one settles. Else wait for the next to settle or the next timer to come.
        if (settledEffects === settledBefore) await settledOrDue(rests, live.length > 0 ? deadline : null);
        continue;
      }

      // Every active step rests.
      const sleeps = rests.filter((r) => r.sleep && r.wakeAt !== null && r.wakeAt !== undefined);
      if (sleeps.length > 0) {
        const due = Math.min(...sleeps.map((r) => r.wakeAt!));
        if (dirty) await commit();
        for (const r of sleeps) if (r.crash) crashPoint(r.crash);
        if (!options.sleepTimers) break;
        // Sleep until the backoff ends or the deadline passes, whichever is first; the loop then retries, cancels or fails
        // the run (or, stopped meanwhile, returns it with the backoff committed).
        const deadline = deadlineAt(workflow, context());
        await clock.sleep((deadline === null ? due : Math.min(due, deadline)) - clock.now(), anySignal(options.signal, watch?.signal, options.stop));
        continue;
      }
      if (dirty || rests.some((r) => r.force)) {
        for (const r of rests) r.onCommit?.();
        const final = rests.find((r) => 'output' in r);
        await commit(final ? final.output : undefined);
        for (const r of rests) if (r.crash) crashPoint(r.crash);
      }
      break;
    }
    // Out of transitions for this drive: keep what was done; the next drive goes on from here.
    if (transitions >= MAX_TRANSITIONS && dirty) await commit();
    // A new run the drive left before its first commit is stored as it is.
    if (unsaved) await commit();
  } finally {
    await Promise.allSettled(inflight.values());
    await queue.catch(() => undefined);
    watch?.stop();
    actor.stop();
  }
  return current;
}
