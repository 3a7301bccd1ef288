/**
 * Rerun a run from a chosen step as a new run: the steps before it keep the
 * outputs they produced, the chosen step and everything after it run again —
 * optionally on a changed definition (new prompt, new tool code). The new run
 * starts from the snapshot the machine reaches when it is sent again the
 * events the original recorded up to the chosen step (see replay.ts): the kept
 * steps' outputs, usage, attempts, branches and wait events are the machine's
 * own, as the original had them when it first entered the step.
 */
import { stepIds, stepOf } from '../definition/sequences.js';
import { randomUUID } from 'node:crypto';
import { compile } from '../compile/machine.js';
import { closestMatch } from '../definition/suggest.js';
import { RunIdTakenError, RunNotFoundError, StepwiseError } from '../errors.js';
import { resolveBudget } from '../policy/budget.js';
import type { RunOptions, RunRecord } from '../run/types.js';
import type { Engine } from './engine.js';
import { wakeAtOf } from './driver.js';
import { activeStepsOf, runStatusOf } from './position.js';
import type { RunContext } from '../compile/context.js';
import { recordedHistory, replayTo } from './replay.js';
import { storedDefinition, versionOf, type DefinitionSource } from './runtime.js';
import { snapshotOf, type RunView } from './view.js';
import { checkCallerRunId } from './child-ids.js';

export interface RerunOptions {
  /** Run on this definition instead of the one the original run started with. */
  readonly definition?: DefinitionSource;
  /** The new run's id; one a run has already is refused ({@link RunIdTakenError}, `run_exists`) and that run left as it is. */
  readonly runId?: string;
}

/**
 * The steps a run went through before it first entered `from`: what a rerun from it keeps. (Entering a parallel
 * step enters the first step of each branch too, so `from` is not always the last step of a replayed trail.)
 */
function keptSteps(trail: RunContext['trail'], from: string): string[] {
  const at = trail.findIndex((e) => e.id === from);
  return trail.slice(0, at < 0 ? trail.length : at).map((e) => e.id);
}

/**
 * The options a rerun starts with: the original's own (seed, faults, a budget given at start or resume). A rerun is a
 * top-level run, also of a child run: the child's link to its parent, and the budget share that parent gave it, stay
 * with the child (linked, the rerun would be cancelled once it rests, as a child of a step its parent has left).
 */
function rerunOptions(options: RunOptions): RunOptions {
  if (!options.parent) return options;
  const { parent: _parent, budget: _share, ...own } = options;
  return own;
}

/** Builds the new run's record; `rerun()` stores and drives it. */
export async function rerunRecord(engine: Engine, runId: string, from: string, options: RerunOptions = {}): Promise<RunRecord> {
  if (options.runId !== undefined) checkCallerRunId(options.runId);
  const original = await engine.store.get(runId);
  if (!original) throw new RunNotFoundError(runId);
  const definition = options.definition ? storedDefinition(options.definition) : original.definition;
  const workflow = definition.workflow;
  const step = stepOf(workflow, from);
  if (!step) {
    const close = closestMatch(from, stepIds(workflow));
    throw new StepwiseError('usage', `no step "${from}" in ${workflow.id}${close ? ` (did you mean "${close}"?)` : ''}; steps: ${stepIds(workflow).join(', ')}`);
  }
  const old = snapshotOf(original).context;
  if (!old.trail.some((e) => e.id === from)) throw new StepwiseError('usage', `run ${runId} never reached step "${from}", so there is nothing before it to keep`);

  const now = engine.clock.now();
  const runOptions = rerunOptions(original.options);
  const budget = resolveBudget(workflow.budget, runOptions.budget);
  const history = await recordedHistory(engine.store, original);
  const { snapshot, context } = replayTo(compile(workflow), workflow, { input: original.input, budget, at: now }, history, old.fingerprints, { step: from, at: now });
  const kept = keptSteps(old.trail, from);
  const replayed = keptSteps(context.trail, from);
  if (replayed.join('>') !== kept.join('>')) {
    throw new StepwiseError(
      'usage',
      `the steps before "${from}" do not replay the same way on this definition: run ${runId} went ${[...kept, from].join(' → ')}, the definition goes ${[...replayed, from].join(' → ')}`,
    );
  }
  const active = activeStepsOf(workflow, snapshot as unknown as { value: unknown });
  return {
    id: options.runId ?? randomUUID(),
    workflow: workflow.id,
    version: options.definition ? (options.definition.hash ?? versionOf(workflow)) : original.version,
    definition,
    // With parallel branches, one may wait while the chosen step is ready to run.
    status: runStatusOf(active.steps, active.end, false),
    input: original.input,
    output: null,
    failure: null,
    usage: context.usage,
    snapshot,
    options: runOptions,
    wakeAt: wakeAtOf(workflow, active.steps, context),
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
  const kept = keptSteps(snapshotOf(record).context.trail, from);
  // The run's usage counts what the kept steps spent (in the original): its first entry carries it, so its journal,
  // which holds only what it runs, sums to its usage.
  const usage = record.usage.totalTokens > 0 || record.usage.usd > 0 ? { usage: record.usage } : {};
  const { run, created } = await engine.store.create(record, [
    { step: null, visit: 0, attempt: 0, event: 'created', at: record.createdAt, ...usage, data: { version: record.version, input: record.input, rerunOf: runId, from, kept } },
  ]);
  // The create is atomic: of concurrent reruns to one id exactly one makes it, and none drives a run it did not make.
  if (!created) throw new RunIdTakenError(run.id, run.workflow, record.workflow);
  if (run.status === 'waiting') return engine.get(run.id);
  return engine.resume(run.id);
}
