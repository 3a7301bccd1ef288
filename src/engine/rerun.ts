/**
 * Rerun a run from a chosen step as a new run: the steps before it keep the
 * outputs they produced, the chosen step and everything after it run again —
 * optionally on a changed definition (new prompt, new tool code). The new run
 * starts from a snapshot built here: the machine's initial snapshot with the
 * kept steps' results in its context and its state at the chosen step's entry.
 */
import { randomUUID } from 'node:crypto';
import { createActor } from 'xstate';
import type { RunContext, StepResult, TrailEntry } from '../compile/context.js';
import { compile } from '../compile/machine.js';
import { kindOf, kindOfStep } from '../kinds/index.js';
import { RunNotFoundError, StepwiseError } from '../errors.js';
import { resolveBudget } from '../policy/budget.js';
import { zeroUsage, type RunRecord } from '../run/types.js';
import type { Engine } from './engine.js';
import { storedDefinition, versionOf, type DefinitionSource } from './runtime.js';
import { snapshotOf, type RunView } from './view.js';

export interface RerunOptions {
  /** Run on this definition instead of the one the original run started with. */
  readonly definition?: DefinitionSource;
  /** The new run's id. */
  readonly runId?: string;
}

/** Builds the new run's record; `rerun()` stores and drives it. */
export async function rerunRecord(engine: Engine, runId: string, from: string, options: RerunOptions = {}): Promise<RunRecord> {
  const original = await engine.store.get(runId);
  if (!original) throw new RunNotFoundError(runId);
  const definition = options.definition ? storedDefinition(options.definition) : original.definition;
  const workflow = definition.workflow;
  const step = workflow.steps[from];
  if (!step) throw new StepwiseError('usage', `no step "${from}" in ${workflow.id}; steps: ${Object.keys(workflow.steps).join(', ')}`);
  const old = snapshotOf(original).context;
  const first = old.trail.findIndex((e) => e.id === from);
  if (first < 0) throw new StepwiseError('usage', `run ${runId} never reached step "${from}", so there is nothing before it to keep`);

  const kept: TrailEntry[] = old.trail.slice(0, first).filter((e) => workflow.steps[e.id]);
  const keptIds = new Set(kept.map((e) => e.id));
  const steps: Record<string, StepResult> = {};
  for (const id of keptIds) if (old.steps[id]) steps[id] = old.steps[id];
  const visits: Record<string, number> = {};
  for (const e of kept) visits[e.id] = (visits[e.id] ?? 0) + 1;
  const fingerprints: Record<string, readonly string[]> = {};
  for (const id of keptIds) if (old.fingerprints[id]) fingerprints[id] = old.fingerprints[id];
  const waited = [...kept].reverse().find((e) => kindOf(workflow.steps[e.id] ?? {})?.entered === 'waiting');
  const event = waited ? old.event : null;

  const now = engine.clock.now();
  const budget = resolveBudget(workflow.budget, original.options.budget);
  const machine = compile(workflow);
  const actor = createActor(machine, { input: { input: original.input, budget, at: now } });
  actor.start();
  const initial = actor.getPersistedSnapshot() as unknown as { value: unknown; context: RunContext } & Record<string, unknown>;
  actor.stop();

  const kind = kindOfStep(from, step);
  const work = kind.flows === true;
  const visit = (visits[from] ?? 0) + 1;
  const entry: TrailEntry = {
    id: from,
    visit,
    status: kind.entered,
    attempts: 0,
    tokens: 0,
    inputTokens: 0,
    outputTokens: 0,
    startedAt: now,
    endedAt: kind.entered === 'done' ? now : null,
  };
  const context: RunContext = {
    ...initial.context,
    steps,
    trail: [...kept, entry],
    visits: { ...visits, [from]: visit },
    fingerprints,
    event,
    active: { [from]: { attempt: 0, retryAt: null, enteredAt: now } },
    startedAt: now,
  };
  const snapshot = { ...initial, value: work ? { [from]: 'ready' } : from, context };
  return {
    id: options.runId ?? randomUUID(),
    workflow: workflow.id,
    version: options.definition ? (options.definition.hash ?? versionOf(workflow)) : original.version,
    definition,
    status: kind.entered === 'waiting' ? 'waiting' : 'running',
    input: original.input,
    output: null,
    failure: null,
    usage: zeroUsage,
    snapshot,
    options: original.options,
    wakeAt: null,
    lease: null,
    createdAt: now,
    updatedAt: now,
    revision: 0,
  };
}

/**
 * Reruns `runId` from step `from` as a new run and drives it until it rests.
 *
 * @example
 * ```ts
 * const again = await rerun(engine, failed.runId, 'validate');
 * ```
 */
export async function rerun(engine: Engine, runId: string, from: string, options: RerunOptions = {}): Promise<RunView> {
  const record = await rerunRecord(engine, runId, from, options);
  const kept = snapshotOf(record).context.trail.slice(0, -1).map((e) => e.id);
  const { run } = await engine.store.create(record, [
    { step: null, visit: 0, attempt: 0, event: 'created', at: record.createdAt, data: { version: record.version, input: record.input, rerunOf: runId, from, kept } },
  ]);
  if (run.status === 'waiting') return engine.get(run.id);
  return engine.resume(run.id);
}
