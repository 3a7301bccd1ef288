/**
 * Child runs: the runs a `workflow` step or the items of a `map` step start.
 * A child is a real run in the store (its own row, journal and snapshot)
 * whose `options.parent` names the run, step and visit (and item) that
 * started it. It is never claimed on its own (`Store.claim` skips runs with a
 * parent): the driver that holds the parent's lease drives it, inside the
 * parent step's effect, so a crash leaves parent and children durable and the
 * next drive of the parent resumes each child from its committed snapshot; a
 * child that ended is never driven again.
 */
import { readdir } from 'node:fs/promises';
import { dirname, extname, resolve as resolvePath } from 'node:path';
import { loadDefinition } from '../definition/load.js';
import { RunNotFoundError, StepwiseError } from '../errors.js';
import { activeVisits, positionOf } from './position.js';
import { stepRunOf } from '../compile/context.js';
import { isResumable, snapshotOf } from './view.js';
import type { ResolvedBudget } from '../policy/budget.js';
import type { Workflow } from '../definition/schema.js';
import { addUsage, subUsage, zeroUsage, type NewJournalEntry, type ParentLink, type RunRecord, type Usage } from '../run/types.js';
import type { Store } from '../store/types.js';
import type { AnyTool } from '../tools/define.js';
import type { Clock } from './clock.js';
import { drive, type DriveOptions, type DriverDeps } from './driver.js';
import { storedDefinition, versionOf, type DefinitionSource, type Runtime } from './runtime.js';
import type { RunScope } from './scope.js';
import { anySignal } from './any-signal.js';
import { assertRunnable } from './runnable.js';
import { abortSignalOf, type CancelSource } from './step-abort.js';
import { persistedSnapshot } from './persisted.js';
import { runActor } from './run-actor.js';
import type { BudgetPool } from './budget-pool.js';
import { depthRefusal, linkBelow, nestingIn, nestingOf, type Nesting } from './child-depth.js';

/** A child run to start. */
export interface ChildSpec {
  /** Its id, derived from the parent's (so starting it again after a crash finds the same run). */
  readonly id: string;
  readonly parent: ParentLink;
  readonly source: DefinitionSource;
  readonly input: unknown;
  readonly budget: ResolvedBudget;
  /**
   * The parent's run options (its seed and faults pass to the child), when the caller has them: the parent's
   * record is then not read again for this child.
   */
  readonly parentOptions?: RunRecord['options'];
}

export interface ChildDriveOptions {
  readonly event?: DriveOptions['event'];
  readonly onCommit?: (record: RunRecord) => void;
  /**
   * The child's slice of the parent's budget (`budget: { tokens }`): what it has not spent of it is reserved
   * in the parent's pool up front, for this drive. Without it the child shares the parent's pool.
   */
  readonly slice?: number;
  /**
   * The abort of the parent step the child runs under: a sibling branch's failure (fail_fast) aborts it, and
   * the child's drive then stops where it is, as when the parent's drive stops.
   */
  readonly stop?: CancelSource;
}

/** Where a `workflow` step finds the definition it starts. */
export interface WorkflowRef {
  readonly id?: string | undefined;
  readonly file?: string | undefined;
}

export interface ChildRuns {
  /** Creates the child run (status `running`, no lease), or returns it when it exists. */
  create(parent: RunScope, spec: ChildSpec): Promise<RunRecord>;
  /**
   * Starts a child run the caller knows does not exist yet (a map item's next run) and drives it as
   * {@link drive} does: its first commit creates it, with its `created` entry. (Only the drive holding the
   * parent's lease starts its children, so a run with this id cannot appear meanwhile; if one did, the
   * first commit fails with a conflict before any step of the child executed.)
   */
  start(parent: RunScope, spec: ChildSpec, options?: Omit<ChildDriveOptions, 'event'>): Promise<RunRecord>;
  /** The run with the id; given the parent step it should be the child of, one it is not the child of is refused (`run_exists`). */
  get(id: string, link?: ParentLink): Promise<RunRecord | null>;
  /** The children of a run, oldest first. */
  list(parentId: string): Promise<RunRecord[]>;
  /**
   * Drives a child until it rests, inside the parent's drive: under the
   * parent's lease (checked first), stopped by the parent's signal or cancel.
   * `event` is delivered first; `onCommit` sees every commit of the child.
   */
  drive(parent: RunScope, child: RunRecord, options?: ChildDriveOptions): Promise<RunRecord>;
  /**
   * The source of an inline child definition (the body of map step `step`): the parent's tools, tool modules and file.
   * @throws StepwiseError `definition_invalid` when the definition cannot be compiled, naming what is wrong in the
   * parent's definition under `step` (see ./runnable.ts).
   */
  inline(parent: RunScope, workflow: Workflow, step: string): Promise<DefinitionSource>;
  /** A new run of the same definition and input as `previous` (a map item's redrive), linked as `link`. */
  again(previous: RunRecord, id: string, link: ParentLink, budget: ResolvedBudget): Promise<RunRecord>;
  /** Whether a child stopped where a resume continues it: out of budget, or failed in a step that may succeed again. */
  resumable(child: RunRecord): boolean;
  /**
   * What the runs below `child` spent that its usage does not count yet: its steps' children (and theirs) charge a
   * run only as they settle or rest, so a child stopped mid-step (its parent step aborted) holds spend below it.
   */
  uncounted(child: RunRecord): Promise<Usage>;
  /**
   * The definition a `workflow` step names: by id (the engine's `workflows`, else a file beside the parent's definition) or by file.
   * `from`: the definition file that names it, when that is not the parent's (a child's own child), null for a definition that is no file.
   */
  resolve(parent: RunScope, ref: WorkflowRef, from?: string | null): Promise<DefinitionSource>;
}

/** What the engine lends the child runs. */
export interface ChildHost {
  readonly store: Store;
  readonly clock: Clock;
  /** The runtime of a run; `tools` are the parent's, which a child inherits. */
  runtimeFor(record: RunRecord, tools?: ReadonlyMap<string, AnyTool>, source?: DefinitionSource): Promise<Runtime>;
  /** The engine's driver dependencies (its listeners, breakers, cancels). */
  deps(): Omit<DriverDeps, 'model'>;
  /** Definitions known by id (`createEngine({ workflows })`). */
  readonly workflows: ReadonlyMap<string, DefinitionSource>;
  /** After a child's drive: the children it left behind (a step it is no longer at) are cancelled, as after any drive. */
  endChildren(driven: RunRecord): Promise<void>;
}

const definitionFiles = new Set(['.yaml', '.yml', '.json', '.ts', '.mts', '.js', '.mjs']);

/** {@link ChildRuns.uncounted}: for each step `record` is at, what its children spent (with what is below them) beyond what it was charged for them. */
async function uncountedBelow(store: Store, record: RunRecord, depth: number): Promise<Usage> {
  if (depth > 64) return zeroUsage;
  const children = await store.list({ parentId: record.id });
  if (children.length === 0) return zeroUsage;
  const snapshot = snapshotOf(record);
  const { context } = snapshot;
  const visits = activeVisits(record.definition.workflow, snapshot);
  const spent = new Map<string, Usage>();
  for (const child of children) {
    const link = child.options.parent;
    if (!link || visits.get(link.step) !== link.visit) continue;
    spent.set(link.step, addUsage(spent.get(link.step) ?? zeroUsage, addUsage(child.usage, await uncountedBelow(store, child, depth + 1))));
  }
  let total = zeroUsage;
  for (const [step, usage] of spent) {
    const beyond = subUsage(usage, stepRunOf(context, step).charged ?? zeroUsage);
    if (beyond.totalTokens > 0 || beyond.usd > 0) total = addUsage(total, beyond);
  }
  return total;
}

export function createChildRuns(host: ChildHost): ChildRuns {
  const { store, clock } = host;
  /** Sources of the children created in this process, by version: their runtimes keep the tools they came with. */
  const sources = new Map<string, DefinitionSource>();

  /** The parent as its drive knows it (the drive holds its lease): not read from the store, where a run its first commit creates is not yet. */
  const parentRecord = (parent: RunScope): RunRecord => parent.record();

  /**
   * `spec` with its link carrying the child's depth and the limit in force below `nesting` (the parent's). The
   * kinds that start children refuse a child past the limit before they get here (a failed step, kind `loop`):
   * one that comes here anyway is an engine error, never a deeper run.
   */
  function nested(spec: ChildSpec, nesting: Nesting): ChildSpec {
    const refusal = depthRefusal(nesting, spec.parent.step);
    if (refusal) throw new Error(`child run ${spec.id} not created: ${refusal}`);
    return { ...spec, parent: linkBelow(nesting, spec.parent) };
  }

  /** The record of a new child run, before its first snapshot; `own` are the parent's options. */
  function draftOf(spec: ChildSpec, version: string, definition: RunRecord['definition'], own: RunRecord['options'], now: number): RunRecord {
    return {
      id: spec.id,
      workflow: spec.source.workflow.id,
      version,
      definition,
      status: 'running',
      input: spec.input,
      output: null,
      failure: null,
      usage: zeroUsage,
      snapshot: null,
      options: {
        ...(own.seed !== undefined ? { seed: own.seed } : {}),
        ...(own.faults !== undefined ? { faults: own.faults } : {}),
        budget: spec.budget.tokens,
        parent: spec.parent,
      },
      wakeAt: null,
      lease: null,
      createdAt: now,
      updatedAt: now,
      revision: 0,
    };
  }

  const createdEntry = (spec: ChildSpec, version: string, now: number): NewJournalEntry => ({
    step: null,
    visit: 0,
    attempt: 0,
    event: 'created',
    at: now,
    data: { version, input: spec.input, parent: spec.parent, budget: spec.budget },
  });

  /** Inserts a child run with its first snapshot (its machine started with its input and budget). */
  async function insert(
    spec: ChildSpec,
    version: string,
    definition: RunRecord['definition'],
    own: RunRecord['options'],
    tools: ReadonlyMap<string, AnyTool> | undefined,
  ): Promise<RunRecord> {
    const now = clock.now();
    const draft = draftOf(spec, version, definition, own, now);
    const runtime = await host.runtimeFor(draft, tools, sources.get(version));
    const snapshot = persistedSnapshot(runActor(runtime.machine, { input: { input: spec.input, budget: spec.budget, at: now } }));
    const created = await store.create({ ...draft, snapshot }, [createdEntry(spec, version, now)]);
    return created.run;
  }

  /** Drives `child` inside `parent`'s drive (see {@link ChildRuns.drive}); `create`: it is not stored yet. */
  async function driveIn(parent: RunScope, child: RunRecord, options: ChildDriveOptions, create?: DriveOptions['create']): Promise<RunRecord> {
    await parent.holdLease();
    const runtime = await host.runtimeFor(child, parent.tools, sources.get(child.version));
    const signal = stopSignal(parent, options.stop);
    // Every model call of the child reserves from the parent's pool: directly, or from its slice reserved up front.
    // A slice the parent cannot afford now is not taken: the child then shares the pool, still bounded by its own budget.
    const slice = options.slice === undefined ? null : parent.budget.slice(Math.max(0, options.slice - child.usage.totalTokens));
    try {
      const driven = await drive(
        slice ? childDeps(parent, slice, options.onCommit) : sharedDeps(parent, options.onCommit),
        runtime,
        child,
        // A parent advanced one step at a time (`engine.step`, serverless) advances its child one step too.
        // So does a parent that fires only what is due (before an event or a cancel). A drain of the parent's drive stops
        // the child at its next step boundary.
        {
          mode: parent.mode,
          sleepTimers: parent.sleepTimers,
          ...(signal ? { signal } : {}),
          ...(parent.stop ? { stop: parent.stop } : {}),
          ...(options.event ? { event: options.event } : {}),
          ...(create ? { create } : {}),
        },
      );
      await host.endChildren(driven);
      return driven;
    } finally {
      slice?.close();
    }
  }

  /** The driver dependencies of a child of `parent` whose model calls reserve from `pool` (the parent's, or a slice of it). */
  function childDeps(parent: RunScope, pool: BudgetPool, onCommit: ChildDriveOptions['onCommit']): DriverDeps {
    const deps = host.deps();
    return {
      ...deps,
      model: parent.model,
      budgetPool: (own) => pool.share(own),
      onCommit: (record, journal) => {
        deps.onCommit(record, journal);
        onCommit?.(record);
      },
    };
  }

  /** {@link childDeps} of the children sharing the parent's pool, made once for the siblings of one parent drive with the same `onCommit` (a map's items). */
  const shared = new WeakMap<RunScope, { onCommit: ChildDriveOptions['onCommit']; deps: DriverDeps }>();
  function sharedDeps(parent: RunScope, onCommit: ChildDriveOptions['onCommit']): DriverDeps {
    const known = shared.get(parent);
    if (known && known.onCommit === onCommit) return known.deps;
    const deps = childDeps(parent, parent.budget, onCommit);
    shared.set(parent, { onCommit, deps });
    return deps;
  }

  /** The version and stored definition of a child source, computed once per source object (a map's items share one). */
  const definitions = new WeakMap<DefinitionSource, { version: string; definition: RunRecord['definition'] }>();
  function definitionOf(source: DefinitionSource) {
    let found = definitions.get(source);
    if (!found) definitions.set(source, (found = { version: source.hash ?? versionOf(source.workflow), definition: storedDefinition(source) }));
    return found;
  }

  /**
   * The signal that stops a child's drive: the parent drive's signal, its cancel, and the abort of the parent step the
   * child runs under (`stop`); made once per parent drive and step (a map's items share it).
   */
  const stops = new WeakMap<RunScope, Map<CancelSource | undefined, { signal: AbortSignal | undefined; cancel: AbortSignal | undefined; any: AbortSignal | undefined }>>();
  function stopSignal(parent: RunScope, stop: CancelSource | undefined): AbortSignal | undefined {
    const cancel = parent.cancelSignal();
    let byStep = stops.get(parent);
    if (!byStep) stops.set(parent, (byStep = new Map()));
    const known = byStep.get(stop);
    if (known && known.signal === parent.signal && known.cancel === cancel) return known.any;
    const any = anySignal(parent.signal, cancel, stop ? abortSignalOf(stop) : undefined);
    byStep.set(stop, { signal: parent.signal, cancel, any });
    return any;
  }

  /**
   * The run found at a child's id, when it is that child (made by this step of this parent, before a crash): a run
   * made under the id by other means (a store written before caller ids were refused a "~") is not taken for it.
   */
  const ownChild = (existing: RunRecord, link: ParentLink): RunRecord => {
    const made = existing.options.parent;
    if (made?.runId === link.runId && made.step === link.step) return existing;
    throw new StepwiseError('run_exists', `The child run id "${existing.id}" is taken by a run that step "${link.step}" of run ${link.runId} did not start: the step cannot use it as its child.`);
  };

  return {
    async create(parent, given) {
      const existing = await store.get(given.id);
      if (existing) return ownChild(existing, given.parent);
      const spec = nested(given, nestingIn(parent));
      const { version, definition } = definitionOf(spec.source);
      sources.set(version, spec.source);
      return insert(spec, version, definition, spec.parentOptions ?? parentRecord(parent).options, parent.tools);
    },

    async start(parent, given, options = {}) {
      const spec = nested(given, nestingIn(parent));
      const { version, definition } = definitionOf(spec.source);
      sources.set(version, spec.source);
      const now = clock.now();
      const draft = draftOf(spec, version, definition, spec.parentOptions ?? parentRecord(parent).options, now);
      return driveIn(parent, draft, options, { input: { input: spec.input, budget: spec.budget, at: now }, journal: [createdEntry(spec, version, now)] });
    },

    async again(previous, id, link, budget) {
      const existing = await store.get(id);
      if (existing) return ownChild(existing, link);
      const parent = await store.get(link.runId);
      if (!parent) throw new RunNotFoundError(link.runId);
      const source = sources.get(previous.version) ?? { workflow: previous.definition.workflow };
      // At the depth of the run it repeats (the parent's nesting has not changed since).
      const spec = nested({ id, parent: link, source, input: previous.input, budget }, nestingOf(parent.options, parent.definition.workflow));
      return insert(spec, previous.version, previous.definition, parent.options, undefined);
    },

    async inline(parent, workflow, step) {
      const own = parentRecord(parent).definition;
      const source = { workflow, tools: parent.tools, toolModules: own.toolModules, source: own.source };
      const { version, definition } = definitionOf(source);
      assertRunnable(definition, version, { workflow: parent.workflow, step });
      return source;
    },

    async get(id, link) {
      const found = await store.get(id);
      return found && link ? ownChild(found, link) : found;
    },

    uncounted: (child) => uncountedBelow(store, child, 0),

    resumable(child) {
      if (child.status === 'budget_exhausted') return true;
      return child.status === 'failed' && isResumable(child.status, child.failure, positionOf(child.definition.workflow, snapshotOf(child)));
    },

    async list(parentId) {
      return (await store.list({ parentId })).reverse();
    },

    drive: (parent, child, options = {}) => driveIn(parent, child, options),

    async resolve(parent, ref, from) {
      const base = from === undefined ? parentRecord(parent).definition.source : from;
      if (ref.file !== undefined) return loadDefinition(resolvePath(base ? dirname(base) : process.cwd(), ref.file));
      const id = ref.id ?? '';
      const known = host.workflows.get(id);
      if (known) {
        // Handed to the engine as it is (not loaded from a file, so maybe never checked).
        const { version, definition } = definitionOf(known);
        assertRunnable(definition, version);
        return known;
      }
      if (base) {
        const dir = dirname(base);
        const files = (await readdir(dir)).filter((f) => definitionFiles.has(extname(f).toLowerCase()) && !f.endsWith('.input.json'));
        // The file named after the id first, then the others.
        files.sort((a, b) => Number(b.startsWith(`${id}.`)) - Number(a.startsWith(`${id}.`)));
        for (const file of files) {
          try {
            const loaded = await loadDefinition(resolvePath(dir, file));
            if (loaded.workflow.id === id) return loaded;
          } catch {
            // Not a definition (or a broken one): look on.
          }
        }
      }
      throw new StepwiseError('definition_invalid', `no workflow "${id}" is known: pass it to createEngine({ workflows }) or put its file beside ${base ?? 'the parent definition'}, or name it with workflow.file`);
    },
  };
}
