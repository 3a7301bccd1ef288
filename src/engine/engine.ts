/**
 * `createEngine()`: the embedding API. An engine holds no global state; two
 * engines can live in one process, each with its own store, tools and model.
 */
import { randomUUID } from 'node:crypto';
import type Anthropic from '@anthropic-ai/sdk';
import type { InspectionEvent, Observer } from 'xstate';
import { isWaitEventType } from '../compile/events.js';
import { EventDataInvalidError, EventNotAcceptedError, RunIdTakenError, RunNotFoundError, StepwiseError, type RunWaits } from '../errors.js';
import { kindOf } from '../kinds/index.js';
import type { ModelConfig, ModelOptions } from '../model/client.js';
import { checkMaxReplyBytes } from '../model/reply-cap.js';
import { checkBudgetOverride, resolveBudget } from '../policy/budget.js';
import type { JournalEntry, NewJournalEntry, RunFilter, RunOptions, RunRecord } from '../run/types.js';
import { finishedStatuses, zeroUsage } from '../run/types.js';
import { LeaseLostError, RunExistsError, type Store } from '../store/types.js';
import type { AnyTool } from '../tools/define.js';
import { systemClock, type Clock } from './clock.js';
import { drive, type DriveOptions, type DriverDeps } from './driver.js';
import { createBreakers } from './breakers.js';
import { positionOf, waitEvents } from './position.js';
import { buildRuntime, COMPILED_MACHINES_HELD, storedDefinition, toolMap, versionOf, type DefinitionSource, type Runtime } from './runtime.js';
import { BoundedMap } from '../util/bounded-map.js';
import { loadRunTools } from './run-tools.js';
import { ownerId, ownerIsDead, withLease, type LeaseHandle } from './lease.js';
import { createRateLimiter } from './rate-limiter.js';
import { createCancelRequests, type CancelRequest } from './cancel-requests.js';
import { work as runWorker, type WorkerHost, type WorkOptions, type WorkSummary } from './worker.js';
import type { RateLimitOptions } from '../policy/rate-limit.js';
import type { RunStatus } from '../run/types.js';
import { isResumable, snapshotOf, toView, type RunView } from './view.js';
import { checkCallerRunId } from './child-ids.js';
import { runView } from './waiting-view.js';
import { guarded, guardedInspector } from './observers.js';
import { checkStatuses, runSummaries, storeFilter, type ListFilter, type RunSummary } from '../query/list.js';
import { runJournal } from '../query/journal.js';
import { persistedSnapshot } from './persisted.js';
import { runActor } from './run-actor.js';
import { lazyAjv } from '../util/lazy-ajv.js';
import { plainSchemaAccepts } from '../util/plain-schema.js';
import { stepOf } from '../definition/sequences.js';

/** The client of `options` (src/model/client.ts), loaded on first use: an engine that makes no model call never loads the SDK. */
async function resolveModel(options: ModelOptions | Anthropic): Promise<ModelConfig> {
  return (await import('../model/client.js')).resolveModel(options);
}
import { createChildRuns } from './children.js';
import { prepareRedrive } from './redrive.js';
import { firedTimers, hasDueTimer } from './due-timers.js';
import { acceptedEvents, cancelDescendants, cancelOrphans, eventFor, rootOf, wakeAncestors, wakeFor, waitingChain } from './child-events.js';
import { callerValue } from './caller-value.js';

export interface EngineOptions {
  readonly store: Store;
  /**
   * Graceful stop of the engine (a server draining on SIGTERM): once it aborts, every drive the engine makes commits
   * what is done at the next step boundary and returns, the run left `running` for a worker or a resume to go on with
   * (a backoff it sleeps through ends at once; its child runs stop at their own step boundaries; a step in flight is
   * let finish). Timers due before an event or a cancel still fire first: firing starts no work.
   */
  readonly stop?: AbortSignal;
  /** Tools available to every run, beside those its definition brings. */
  readonly tools?: readonly AnyTool[];
  /** The model server: a client, options, or nothing to let the SDK read the environment. */
  readonly model?: ModelOptions | Anthropic;
  readonly clock?: Clock;
  /** An XState inspector (e.g. from `@statelyai/inspect`) attached to every run's actor. */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** How long a command's lease on the run it drives lasts between heartbeats. Default 30 s. */
  readonly leaseMs?: number;
  /** How long a command waits for a run another process is driving. Default 15 s. */
  readonly leaseWaitMs?: number;
  /** The model rate limit shared through the store by every engine using it. */
  readonly rateLimit?: RateLimitOptions;
  /**
   * The model server of one run, from the options it was started with (its
   * emulator seed and faults); `model` serves the runs it returns nothing for.
   * Workers use it so a run keeps its own seed and fault spec.
   */
  readonly modelForRun?: (options: RunOptions) => Promise<ModelOptions | Anthropic | undefined>;
  /** Path tests only (`stepwise test`): forces the branch of a choice of run `runId` (see `DriverDeps.chooseBranch`). */
  readonly chooseBranch?: (step: string, runId: string) => number | undefined;
  /** Path tests only (`stepwise test`): fails a `workflow` or `map` step of run `runId` as it starts (see `DriverDeps.forceFailure`). */
  readonly forceFailure?: (step: string, runId: string) => boolean;
  /**
   * The largest output a step may produce (a tool's return value, a model's
   * reply), measured as JSON bytes. A larger one, or one that is not plain
   * JSON (a BigInt, a function, a cycle), fails the step as `invalid_output`
   * before it reaches the machine or the store. Default 4 MiB.
   */
  readonly maxOutputBytes?: number;
  /** How often the engine looks in the store for a `cancel` made by another process of the runs it drives (one poller for all of them). Default 1 s. */
  readonly cancelPollMs?: number;
  /**
   * Definitions a `workflow` step may start by id (`workflow: { id }`). An id
   * not found here is looked for among the definition files beside the
   * parent's definition.
   */
  readonly workflows?: readonly DefinitionSource[];
}

export interface StartOptions extends RunOptions {
  readonly input?: unknown;
  /**
   * The caller's run id. When a run has it already, a run of the same workflow is returned as it is (its input and
   * definition stay; this start's are not used) and a run of another workflow throws {@link RunIdTakenError}
   * (`run_exists`). Of concurrent starts of one id exactly one creates the run.
   */
  readonly runId?: string;
  /**
   * What a `runId` a run of the same workflow has gets: `'return'` (default) that run, `'refuse'` a
   * {@link RunIdTakenError} (with `sameWorkflow` true), so the caller knows this start created nothing.
   */
  readonly existing?: 'return' | 'refuse';
  /** Only create the run (status `running`), for workers or `step()` to advance. */
  readonly detach?: boolean;
}

export type { RunSummary } from '../query/list.js';

export interface SendOptions {
  /** Who sent the event (a token label, `api`, a user name): journaled as `by`. */
  readonly by?: string;
  /** The waiting step the event is for, when several wait at once (parallel branches); default: the first that accepts it. */
  readonly step?: string;
}

export interface Engine {
  /** Starts a run and drives it until it waits, finishes or fails. */
  start(definition: DefinitionSource, options?: StartOptions): Promise<RunView>;
  /**
   * Delivers an event a waiting run accepts (e.g. `APPROVE`) and drives it on.
   * What came due before it (a wait's timeout, the deadline, a retry) fires first
   * and is committed; an event the run then no longer accepts throws
   * {@link EventNotAcceptedError}, as any event it does not accept does.
   * `options.by` names who sent it (e.g. `api`); the journal's `event` entry records it.
   */
  send(runId: string, event: string, data?: unknown, options?: SendOptions): Promise<RunView>;
  /** Continues a run that stopped: budget exhausted, failed, crashed, or due timers. */
  resume(runId: string, options?: { budget?: number }): Promise<RunView>;
  /** Advances a run by one step, persists and returns (serverless style). */
  step(runId: string): Promise<RunView>;
  /**
   * Cancels a run that has not ended (a failed run only while a resume could continue it). What came due before
   * the cancel (a wait's timeout, the deadline, a retry, a child's timer) fires first and is committed, as for
   * {@link send}, but starts no work: a run those timers ended is returned as it ended, one still going is cancelled
   * where they left it (at a wait, or at a tool or model step they led to, which never runs).
   */
  cancel(runId: string, reason?: string): Promise<RunView>;
  /**
   * A run that failed in a `map` step: starts the failed items again (new
   * child runs), keeps the outputs of the items that succeeded, and continues
   * the run from the map.
   */
  redrive(runId: string): Promise<RunView>;
  get(runId: string): Promise<RunView>;
  /** Runs, newest first: top-level runs only unless `{ children: true }` (or a `parentId`, for one run's children). */
  list(filter?: ListFilter): Promise<RunSummary[]>;
  journal(runId: string): Promise<JournalEntry[]>;
  /** Calls `listener` after every committed transition of any run of this engine, with the journal entries it appended. */
  subscribe(listener: (run: RunView, journal: readonly NewJournalEntry[]) => void): () => void;
  /** Works runnable runs with leases until `signal` aborts (or, with `exitWhenIdle`, nothing is left). */
  work(options?: WorkOptions): Promise<WorkSummary>;
  /** Deletes runs last updated more than `olderThanMs` ago in `statuses` (default done, failed, cancelled). */
  prune(options: { olderThanMs: number; statuses?: readonly RunStatus[] }): Promise<number>;
  readonly store: Store;
  readonly clock: Clock;
}

const ajv = lazyAjv();

function sameTools(a: ReadonlyMap<string, AnyTool>, b: ReadonlyMap<string, AnyTool>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, tool] of a) if (b.get(name) !== tool) return false;
  return true;
}

async function validateInput(source: DefinitionSource, input: unknown): Promise<void> {
  const schema = source.workflow.input;
  // A plainly valid input needs no Ajv; Ajv decides (and words) everything else.
  if (!schema || plainSchemaAccepts(schema, input)) return;
  const validate = (await ajv()).compile(schema);
  if (!validate(input)) {
    const problems = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '(input)'} ${e.message ?? ''}`.trim());
    throw new StepwiseError('input_invalid', `The run input does not match the input schema of "${source.workflow.id}": ${problems.join('; ')}`);
  }
}

/**
 * Creates an engine.
 *
 * @example
 * ```ts
 * import { createEngine, loadDefinition, openStore } from 'stepwise-engine';
 * const engine = createEngine({ store: await openStore('sqlite:.stepwise/stepwise.db') });
 * const run = await engine.start(await loadDefinition('definitions/invoice-approval.yaml'), { input: { document } });
 * if (run.status === 'waiting') await engine.send(run.runId, 'APPROVE');
 * ```
 */
/**
 * Throws `usage` for a numeric option of createEngine that is not a finite number above zero (at or above zero for
 * `leaseWaitMs`): NaN would remove a bound (no comparison with it is true), Infinity hold it for ever.
 */
function checkNumericOptions(options: EngineOptions): void {
  const positive = { leaseMs: options.leaseMs, cancelPollMs: options.cancelPollMs, maxOutputBytes: options.maxOutputBytes };
  for (const [name, value] of Object.entries(positive)) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new StepwiseError('usage', `createEngine: ${name} must be a finite number above 0, not ${String(value)}`);
  }
  // An Anthropic client given ready has no maxReplyBytes: only model options are checked.
  checkMaxReplyBytes((options.model as ModelOptions | undefined)?.maxReplyBytes, 'createEngine');
  const wait = options.leaseWaitMs;
  if (wait !== undefined && !(Number.isFinite(wait) && wait >= 0)) throw new StepwiseError('usage', `createEngine: leaseWaitMs must be a finite number of at least 0, not ${String(wait)}`);
}

export function createEngine(options: EngineOptions): Engine {
  checkNumericOptions(options);
  const { store } = options;
  const clock = options.clock ?? systemClock;
  // The SDK client is made (and the SDK loaded) when a run first needs the model, not with the engine.
  let defaultModel: Promise<ModelConfig> | undefined;
  const model = () => (defaultModel ??= resolveModel(options.model ?? {}));
  // Bounded as the compiled machines are (a long-lived engine meets ever new versions: 1,800 of them held 700 MB);
  // the tools a start was given are kept by version apart, so a runtime rebuilt after it was let go has them again.
  const runtimes = new BoundedMap<string, Runtime>(COMPILED_MACHINES_HELD);
  const givenTools = new Map<string, ReadonlyMap<string, AnyTool>>();
  const listeners = new Set<(run: RunView, journal: readonly NewJournalEntry[]) => void>();
  const engineTools = toolMap(options.tools);
  const leaseMs = options.leaseMs ?? 30_000;
  const beforeModelCall = createRateLimiter(store, clock, options.rateLimit);
  const leaseOf = (runId: string) => ({ store, clock, runId, leaseMs, waitMs: options.leaseWaitMs ?? 15_000 });
  const cancels = createCancelRequests(store, { pollMs: options.cancelPollMs ?? 1000 });
  /**
   * Runs this engine's `start` is driving that its first commit has not stored yet, by id: each settles once the
   * run is stored or the start ends. A cancel of one waits for it (see `cancel` below).
   */
  const unstored = new Map<string, Promise<void>>();

  const deps: Omit<DriverDeps, 'model'> = {
    store,
    clock,
    ...(options.inspect ? { inspect: guardedInspector(options.inspect) } : {}),
    breakers: createBreakers(store, clock),
    cancels,
    ...(options.maxOutputBytes !== undefined ? { maxOutputBytes: options.maxOutputBytes } : {}),
    ...(beforeModelCall ? { beforeModelCall } : {}),
    ...(options.chooseBranch ? { chooseBranch: options.chooseBranch } : {}),
    ...(options.forceFailure ? { forceFailure: options.forceFailure } : {}),
    onCommit: (record: RunRecord, journal: readonly NewJournalEntry[]) => {
      if (listeners.size === 0) return;
      // Listeners get copies: what one changes reaches neither the run nor the store (nor the next listener).
      for (const listener of listeners) listener(toView(record), JSON.parse(JSON.stringify(journal)) as NewJournalEntry[]);
    },
  };

  /** The runtime of a definition handed to `start`: the compiled machine is cached per version, the tools are the caller's. */
  function runtimeOf(definition: RunRecord['definition'], version: string, source: DefinitionSource): Runtime {
    const tools = new Map([...engineTools, ...toolMap(source.tools)]);
    const cached = runtimes.touch(version);
    const runtime = cached && sameTools(cached.tools, tools) ? cached : { ...(cached ?? buildRuntime(definition, version, tools)), tools };
    runtimes.set(version, runtime);
    givenTools.set(version, tools);
    return runtime;
  }

  /** The runtime of a stored run: the engine's tools, then its own (from `source`, else those a start gave, else its tool modules). */
  function runtimeFor(record: RunRecord, source?: DefinitionSource): Promise<Runtime> {
    return childRuntimeFor(record, undefined, source);
  }

  /** The runtime of a run: the engine's tools, its parent's (a child run), then its own (from `source`, else those a start gave, else its tool modules). */
  async function childRuntimeFor(record: RunRecord, parentTools?: ReadonlyMap<string, AnyTool>, source?: DefinitionSource): Promise<Runtime> {
    const cached = runtimes.touch(record.version);
    if (cached) return cached;
    const tools = new Map([...engineTools, ...(parentTools ?? [])]);
    const own = source ? toolMap(source.tools) : (givenTools.get(record.version) ?? (await loadRunTools(record.definition)));
    for (const [name, tool] of own) tools.set(name, tool);
    const runtime = buildRuntime(record.definition, record.version, tools);
    runtimes.set(record.version, runtime);
    return runtime;
  }

  const children = createChildRuns({
    store,
    clock,
    runtimeFor: childRuntimeFor,
    deps: () => deps,
    workflows: new Map((options.workflows ?? []).map((w) => [w.workflow.id, w])),
    endChildren: (driven) => endChildren(driven),
  });
  Object.assign(deps, { children });

  async function load(runId: string): Promise<RunRecord> {
    const record = await store.get(runId);
    if (!record) throw new RunNotFoundError(runId);
    return record;
  }

  const runModels = new Map<string, ModelConfig>();
  async function modelOf(record: RunRecord): Promise<ModelConfig> {
    if (!options.modelForRun) return model();
    const key = JSON.stringify([record.options.seed ?? null, record.options.faults ?? null]);
    let found = runModels.get(key);
    if (!found) {
      const chosen = await options.modelForRun(record.options);
      found = chosen ? await resolveModel(chosen) : await model();
      runModels.set(key, found);
    }
    return found;
  }

  /** The leases this engine's commands hold, by run: the driver checks them around each step and names them in its commits. */
  const held = new Map<string, LeaseHandle>();
  async function holding<T>(runId: string, lease: LeaseHandle | null, fn: () => Promise<T>): Promise<T> {
    if (!lease) return fn();
    held.set(runId, lease);
    try {
      return await fn();
    } finally {
      if (held.get(runId) === lease) held.delete(runId);
    }
  }

  async function run(record: RunRecord, opts: DriveOptions, source?: DefinitionSource): Promise<RunView> {
    const runtime = await runtimeFor(record, source);
    const lease = opts.lease ? null : held.get(record.id);
    const leased = lease ? { ...opts, lease, signal: opts.signal ? AbortSignal.any([opts.signal, lease.signal]) : lease.signal } : opts;
    // A drive that only fires what is due starts no work, so the engine's stop (a drain) does not hold it back: a late
    // event or cancel must find the timers fired (../../README.md, late events).
    const engineStop = opts.mode === 'due' ? undefined : options.stop;
    const stop = engineStop === undefined ? leased.stop : leased.stop ? AbortSignal.any([leased.stop, engineStop]) : engineStop;
    const driven = await drive({ ...deps, model: await modelOf(record) }, runtime, record, stop ? { ...leased, stop } : leased);
    await endChildren(driven);
    return viewOf(driven);
  }

  /** Where `record` waits (its own waits, else the step its waiting children wait under), for a refused `send --step`. */
  async function waitsOf(record: RunRecord, step: string): Promise<RunWaits> {
    const view = await viewOf(record);
    const own = acceptedEvents(record).filter((w) => w.events.length > 0);
    const steps = own.length ? own.map((w) => w.step) : view.waitingFor ? [view.waitingFor.step] : [];
    const events = own.length ? [...new Set(own.flatMap((w) => w.events))] : (view.waitingFor?.events ?? []);
    return { steps, events, unknownStep: stepOf(record.definition.workflow, step) === undefined };
  }

  /** The view of a run, with what its waiting child runs accept (./waiting-view.ts). */
  const viewOf = (record: RunRecord): Promise<RunView> => runView(store, record);

  /**
   * Fires what is due at the clock's now in the run tree of `record`, before an event or a cancel reaches it: a drive
   * of the root (whose `wakeAt` is also the earliest of its children's, and whose drive drives them) in `due` mode,
   * which fires a wait's timeout, the deadline, a retry's or a child run's timer and takes the transitions that follow,
   * but starts no work (a step they lead to that would call a tool or the model stays where it is), so an engine
   * stopping (a draining server) fires them too. `then: 'rest'` (before an event): the run is then driven on as a
   * worker drives a due run (it sleeps through nothing; a drain stops it at its next step boundary), so the work they
   * led to is done before the event is judged. Whether there was anything due.
   */
  async function fireDue(record: RunRecord, then: 'rest' | 'stay'): Promise<boolean> {
    const root = record.options.parent ? (await rootOf(store, record)).root : record;
    if (!hasDueTimer(root, clock.now())) return false;
    const fired = await run(root, { mode: 'due', sleepTimers: false });
    if (then === 'rest' && fired.status === 'running') await run(await load(root.id), { mode: 'rest', sleepTimers: false });
    return true;
  }

  /** After a child run moved by itself (an event, a resume, a cancel): each of its ancestors looks at its child again, the root last. */
  async function wakeParents(child: RunRecord): Promise<void> {
    const at = clock.now();
    const { root, chain } = await rootOf(store, child);
    if (root.id === child.id) return;
    await wakeAncestors(driveChild, chain, at);
    const wake = wakeFor(chain[1] ?? child, at);
    await run(root, { mode: 'rest', sleepTimers: true, ...(wake ? { event: wake } : {}) });
  }

  /**
   * Drives a child run (outside its parent's drive: an event reached it, or its parent was cancelled), under the root's
   * lease; once the engine stops, only to its next step boundary (the event is committed).
   */
  async function driveChild(record: RunRecord, event?: DriveOptions['event']): Promise<RunRecord> {
    const runtime = await childRuntimeFor(record);
    const opts: DriveOptions = { mode: 'rest', sleepTimers: true, ...(event ? { event } : {}), ...(options.stop ? { stop: options.stop } : {}) };
    const driven = await drive({ ...deps, model: await modelOf(record) }, runtime, record, opts);
    await endChildren(driven);
    return driven;
  }

  /**
   * After a drive: a cancelled run cancels its children (and theirs) that have not ended; any other run cancels the
   * children still running or waiting under a step it is no longer at (./child-events.ts).
   */
  async function endChildren(driven: RunRecord): Promise<void> {
    if (driven.status === 'cancelled') await cancelDescendants(store, driveChild, driven.id, driven.failure?.message ?? 'cancelled', clock.now(), driven.options.parent !== undefined);
    else await cancelOrphans(store, driveChild, driven, clock.now());
  }

  /** A start whose `runId` a run has: that run when it is of the same workflow (unless `existing: 'refuse'`), else {@link RunIdTakenError}. */
  async function existingRun(record: RunRecord, source: DefinitionSource, opts: StartOptions): Promise<RunView> {
    if (record.workflow !== source.workflow.id || opts.existing === 'refuse') throw new RunIdTakenError(record.id, record.workflow, source.workflow.id);
    return viewOf(record);
  }

  const engine: Engine = {
    store,
    clock,

    async start(source, opts = {}) {
      checkBudgetOverride(opts.budget);
      if (opts.runId !== undefined) {
        checkCallerRunId(opts.runId);
        const existing = await store.get(opts.runId);
        if (existing) return existingRun(existing, source, opts);
      }
      // The engine's own copy: what the caller does to its object afterwards reaches nothing stored.
      const input = callerValue(opts.input ?? {}, 'run input', 'input_invalid');
      await validateInput(source, input);
      const definition = storedDefinition(source);
      const version = source.hash ?? versionOf(source.workflow);
      const runtime = runtimeOf(definition, version, source);
      const now = clock.now();
      const startOwner = ownerId();
      const budget = resolveBudget(source.workflow.budget, opts.budget);
      const runOptions: RunOptions = {
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        ...(opts.faults !== undefined ? { faults: opts.faults } : {}),
        ...(opts.budget !== undefined ? { budget: opts.budget } : {}),
      };
      const record: RunRecord = {
        id: opts.runId ?? randomUUID(),
        workflow: source.workflow.id,
        version,
        definition,
        status: 'running',
        input,
        output: null,
        failure: null,
        usage: zeroUsage,
        snapshot: null,
        options: runOptions,
        wakeAt: null,
        lease: opts.detach ? null : { owner: startOwner, until: now + leaseMs },
        createdAt: now,
        updatedAt: now,
        revision: 0,
      };
      const opening: NewJournalEntry[] = [{ step: null, visit: 0, attempt: 0, event: 'created', at: now, data: { version, input } }];
      if (opts.detach) {
        // Left for workers and step(): stored now with its initial snapshot, which they restore.
        const actor = runActor(runtime.machine, { input: { input, budget, at: now } });
        const created = await store.create({ ...record, snapshot: persistedSnapshot(actor) }, opening);
        actor.stop();
        // Another start of the id made it first (the create is atomic): the answer is that run's, as above.
        return created.created ? toView(created.run) : existingRun(created.run, source, opts);
      }
      // The run is created by its first drive's first commit, which comes before any step runs (an attempt's start, a
      // wait, the end): one write where a create and a commit were. Until then its lease is its creator's alone, and
      // the lease's heartbeat does not count a run it cannot find yet as lost (`unstored`). The machine starts from
      // the input as the store gives it back (JSON's rules: the copy taken above), as an actor restored from the store would.
      const machineInput = { input, budget, at: now };
      // An inspector sees the XState actor the driver makes; otherwise the driver drives the lighter one made here.
      const actor = options.inspect ? undefined : runActor(runtime.machine, { input: machineInput });
      let created = false;
      let stored!: () => void;
      const storing = new Promise<void>((resolve) => (stored = resolve));
      unstored.set(record.id, storing);
      const create = {
        input: machineInput,
        journal: opening,
        leaseMs,
        onCreated: () => {
          created = true;
          stored();
        },
      };
      try {
        // The drive gets this start's own lease, not through `held` (by run id): another start of the id may hold one meanwhile.
        return await withLease({ ...leaseOf(record.id), owner: startOwner, held: true, grantedAt: now, unstored: true }, (lease) =>
          run(record, { mode: 'rest', sleepTimers: true, create, ...(actor ? { actor } : {}), ...(lease ? { lease, signal: lease.signal } : {}) }, source),
        );
      } catch (error) {
        // Another start of the same id made the run first (its create found the run, or this lease's heartbeat found
        // it under the other start's lease): this drive wrote nothing, and the answer is that run's.
        if (!created && (error instanceof RunExistsError || error instanceof LeaseLostError)) {
          const existing = await store.get(record.id);
          if (existing) return existingRun(existing, source, opts);
        }
        throw error;
      } finally {
        stored();
        if (unstored.get(record.id) === storing) unstored.delete(record.id);
      }
    },

    async send(runId, type, given, sendOptions = {}) {
      // The engine's own copy of the data, as for a run's input.
      const data = given === undefined ? undefined : callerValue(given, `data of event "${type}"`, 'event_invalid');
      const found = await load(runId);
      // What came due before the event (a wait's timeout, the deadline, a retry, a child's timer) fires first: an event
      // that comes after its window closed finds the run gone on, and is delivered only if the run still accepts it.
      const fired = await fireDue(found, 'rest');
      const record = fired ? await load(runId) : found;
      // Every active step that waits for events from outside; the first that accepts `type` takes it. A run with one active
      // step takes events only while it is `waiting`; with several (parallel regions) a wait takes them while the others run.
      const own = acceptedEvents(record).filter((w) => w.events.length > 0);
      const waits = own.filter((w) => sendOptions.step === undefined || w.step === sendOptions.step);
      const accepted = new Set(waits.flatMap((w) => w.events));
      const target = waits.find((w) => w.events.includes(type));
      const at = clock.now();
      if (target && isWaitEventType(type)) {
        // The step's kind may check the event's data first (an edited tool input): a refusal changes nothing.
        const spec = stepOf(record.definition.workflow, target.step);
        const kind = spec ? kindOf(spec) : undefined;
        let admitted: Readonly<Record<string, unknown>> = {};
        if (spec && kind?.admit) {
          const verdict = kind.admit(target.step, spec, { type, data }, { context: snapshotOf(record).context, tools: (await runtimeFor(record)).tools });
          if (!verdict.ok) throw new EventDataInvalidError(runId, type, verdict.message, verdict.field);
          admitted = verdict.journal ?? {};
        }
        const delivered = eventFor(record, target.step, type, data, at, sendOptions.by, admitted);
        if (!record.options.parent) return run(record, { mode: 'rest', sleepTimers: true, event: delivered });
        // Sent to a child directly: it takes the event, then its parents see it move.
        await wakeParents(await driveChild(record, delivered));
        return viewOf(await load(runId));
      }
      // None of the run's own steps takes it: the waiting child (or grandchild) that does, under the step named, if
      // one is (the step a map or workflow step's `waitingFor` names) and is not one of the run's own waits.
      const named = sendOptions.step;
      const viaChildren = isWaitEventType(type) && (named === undefined || !own.some((w) => w.step === named));
      const chain = viaChildren ? await waitingChain(store, record, type, accepted, named) : null;
      if (!chain) {
        const changed = fired && record.revision !== found.revision ? firedTimers(found, record, type, at, named) : undefined;
        const waitsNow = named !== undefined && waits.length === 0 ? await waitsOf(record, named) : undefined;
        throw new EventNotAcceptedError(runId, type, [...accepted], named, changed, waitsNow);
      }
      const last = chain[chain.length - 1]!;
      const step = acceptedEvents(last).find((w) => w.events.includes(type))!.step;
      await driveChild(last, eventFor(last, step, type, data, at, sendOptions.by));
      await wakeAncestors(driveChild, [record, ...chain], at);
      const wake = wakeFor(chain[0]!, at);
      return run(await load(runId), { mode: 'rest', sleepTimers: true, ...(wake ? { event: wake } : {}) });
    },

    async resume(runId, opts = {}) {
      const record = await load(runId);
      if ((finishedStatuses.includes(record.status) && record.status !== 'failed') || record.status === 'waiting') {
        return run(record, { mode: 'rest', sleepTimers: true });
      }
      if (record.status === 'failed' && !isResumable(record.status, record.failure, positionOf(record.definition.workflow, snapshotOf(record)))) {
        throw new StepwiseError('usage', `Run "${runId}" failed with "${record.failure?.kind}", which a resume cannot fix: ${record.failure?.message}`);
      }
      const at = clock.now();
      const context = snapshotOf(record).context;
      const budget = resolveBudget(record.definition.workflow.budget, opts.budget ?? record.options.budget);
      const stopped = record.status === 'failed' || record.status === 'budget_exhausted';
      const updated = opts.budget !== undefined ? { ...record, options: { ...record.options, budget: opts.budget } } : record;
      const step = context.trail[context.trail.length - 1]?.id ?? null;
      return run(updated, {
        mode: 'rest',
        sleepTimers: true,
        ...(stopped
          ? {
              event: {
                event: { type: 'run.resume', at, budget },
                journal: [{ step, visit: step ? (context.visits[step] ?? 0) : 0, attempt: 0, event: 'resumed', at, data: { budget } }],
              },
            }
          : {}),
      });
    },

    async step(runId) {
      const record = await load(runId);
      if (record.status !== 'running') return toView(record);
      return run(record, { mode: 'step', sleepTimers: false });
    },

    async cancel(runId, reason = 'cancelled') {
      const record = await load(runId);
      // A run that ended stays as it ended; a failed run is cancelled only while a resume could still continue it.
      const view = toView(record);
      if (finishedStatuses.includes(record.status) && !(record.status === 'failed' && view.resumable)) return view;
      const at = clock.now();
      return run(record, {
        mode: 'rest',
        sleepTimers: false,
        event: { event: { type: 'run.cancel', at, reason }, journal: [{ step: null, visit: 0, attempt: 0, event: 'cancelled', at, data: { reason } }] },
      });
    },

    async redrive(runId) {
      const prepared = await prepareRedrive(store, children, await load(runId), clock.now());
      return run(prepared.record, { mode: 'rest', sleepTimers: true, event: prepared.event });
    },

    async get(runId) {
      return viewOf(await load(runId));
    },

    async list(filter) {
      // An unknown status is refused, as listRuns and `stepwise list` refuse it, not answered with no runs.
      checkStatuses(filter?.status);
      return runSummaries(store, storeFilter(filter));
    },

    journal(runId) {
      return runJournal(store, runId);
    },

    subscribe(listener) {
      // A listener that throws (or rejects) stops neither the run nor the listeners after it (./observers.ts).
      const safe = guarded(listener, 'a subscribe listener');
      listeners.add(safe);
      return () => listeners.delete(safe);
    },

    work(workOptions) {
      const host = {
        store,
        clock,
        drive: (record: RunRecord, d: Parameters<WorkerHost['drive']>[1]) =>
          run(record, {
            mode: 'rest', sleepTimers: false, signal: d.signal, stop: d.stop, lease: d.lease,
            ...(d.cancelRequest !== undefined ? { cancelRequest: d.cancelRequest } : {}),
          }),
      };
      return runWorker(host, workOptions);
    },

    async prune({ olderThanMs, statuses }) {
      return store.prune({ olderThan: Date.now() - olderThanMs, statuses: statuses ?? finishedStatuses });
    },
  };
  // Commands that drive a run hold its lease meanwhile, so they never race a worker; they read the run after taking it.
  const { send, resume, step, cancel, redrive } = engine;
  const leased = <T>(runId: string, fn: () => Promise<T>) => withLease({ ...leaseOf(runId), owner: ownerId() }, (lease) => holding(runId, lease, fn));
  /**
   * The run `runId` for a cancel that did not find it: one this engine is starting is stored by its first commit (its
   * first step's start). The request is told to its drive at once (it aborts what the step prepares, and the step
   * never runs), and the cancel goes on once the run is stored, as for any run; the request is taken back meanwhile,
   * so a start that ends without storing the run leaves none behind. Else, or then, {@link RunNotFoundError}.
   */
  const storedMeanwhile = async (runId: string, request: CancelRequest): Promise<RunRecord> => {
    const starting = unstored.get(runId);
    if (!starting) throw new RunNotFoundError(runId);
    await cancels.request(runId, request);
    await starting;
    await cancels.clear(runId);
    return load(runId);
  };
  /** A child run is driven under its root's lease (children have none of their own). */
  const leasedRoot = async <T>(runId: string, fn: () => Promise<T>) => {
    const record = await load(runId);
    const root = record.options.parent ? (await rootOf(store, record)).root.id : runId;
    return leased(root, fn);
  };
  /**
   * Before a cancel: what came due in the run tree of `record` fires first (`fireDue`, under the root's lease), as
   * before an event, so a wait whose window closed has taken its `onTimeout` route and a run past its deadline has
   * failed; no work they lead to is started (the cancel then cancels the run at that step, which never runs). Not
   * while another live process holds the lease: it is driving the run, and fires them or sees the cancel.
   * The run as it is then.
   */
  async function firedBeforeCancel(record: RunRecord): Promise<RunRecord> {
    const root = record.options.parent ? (await rootOf(store, record)).root : record;
    const now = clock.now();
    if (!hasDueTimer(root, now)) return record;
    if (root.lease && root.lease.until > now && !ownerIsDead(root.lease.owner)) return record;
    await leased(root.id, async () => fireDue(await load(record.id), 'stay'));
    return load(record.id);
  }
  Object.assign(engine, {
    send: (runId: string, type: string, data?: unknown, o?: SendOptions) => leasedRoot(runId, () => send(runId, type, data, o)),
    resume: (runId: string, o?: { budget?: number }) =>
      leasedRoot(runId, async () => {
        checkBudgetOverride(o?.budget);
        const view = await resume(runId, o);
        const record = await load(runId);
        if (!record.options.parent) return view;
        // A child resumed by itself: its parents go on from where it is now.
        await wakeParents(record);
        return viewOf(await load(runId));
      }),
    redrive: (runId: string) => leased(runId, () => redrive(runId)),
    step: (runId: string) => leased(runId, () => step(runId)),
    // A cancel is first recorded where the drive holding the run sees it (at once in this engine, by polling
    // elsewhere): that drive aborts the step in flight and cancels the run, so the lease comes free at once.
    cancel: async (runId: string, reason?: string) => {
      const request = { reason: reason ?? 'cancelled', at: clock.now() };
      const found = await store.get(runId);
      // A run this engine is starting and has not stored yet has no timers to fire yet (see storedMeanwhile).
      const record = found ? await firedBeforeCancel(found) : await storedMeanwhile(runId, request);
      const view = toView(record);
      if (finishedStatuses.includes(record.status) && !(record.status === 'failed' && view.resumable)) return view;
      await cancels.request(runId, request);
      let done: RunView;
      try {
        done = await leased(runId, () => cancel(runId, reason));
      } catch (error) {
        if (error instanceof StepwiseError && error.code === 'run_busy') {
          throw new StepwiseError('run_busy', `${error.message} The cancel is recorded: the run stops as soon as the process driving it sees it.`, { cause: error });
        }
        throw error;
      }
      await cancels.clear(runId);
      // A child cancelled by itself: its parent's step sees it (and fails, or takes onError).
      const after = await load(runId);
      if (after.options.parent) {
        await leasedRoot(runId, () => wakeParents(after));
        return viewOf(await load(runId));
      }
      return done;
    },
  });
  return engine;
}
