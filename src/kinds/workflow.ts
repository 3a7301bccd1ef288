/**
 * `workflow`: starts another definition (by id or by file) as a child run
 * with its own journal and snapshot; the step's output is the child's output,
 * a child that fails fails the step (→ `onError`). A `wait` inside the child
 * makes the parent wait for the same events; cancel and resume propagate.
 * With `budget: { tokens }` the child gets that slice of the parent's budget
 * (reserved in the parent's pool up front for each drive of the child);
 * without it, it shares the parent's pool. The parent is charged what the
 * child spends, once. A child that would nest deeper than `limits.maxDepth`
 * is not started: the step fails with kind `loop`.
 */
import { z } from 'zod';
import { attemptsSinceResume, stepRunOf } from '../compile/context.js';
import { maxVisits, Mapping, StepId } from '../definition/fields.js';
import type { Workflow } from '../definition/schema.js';
import { compileMapping, evaluateMapping } from '../expr/index.js';
import { chargeAborted, chargeResting, childBudget, sendCharged, sharedChildBudget, unjournaled } from '../engine/child-budget.js';
import { upgradeSnapshot } from '../engine/upgrade.js';
import type { SnapshotLike } from '../engine/position.js';
import { childSettled, childTimersDue, forcedFailure, interruptedDrive, restingUntil, stopOf, waitingChild } from '../engine/child-step.js';
import { checkChildInput, childIdOf } from '../engine/child-ids.js';
import { depthRefusal, nestingIn } from '../engine/child-depth.js';
import { crashPoint } from '../engine/crash-points.js';
import { refusedStart } from '../engine/work-handler.js';
import type { RunScope } from '../engine/scope.js';
import type { DefinitionSource } from '../engine/runtime.js';
import type { RunRecord } from '../run/types.js';
import { scopeOf } from '../steps/types.js';
import { addUsage, zeroUsage } from '../run/types.js';
import { childState, childWakeAt } from './child-state.js';
import { defineStepKind, type Advance } from './types.js';
import { workEdges, workPathEvents } from './work.js';

export const ChildBudget = z.strictObject({
  tokens: z.number().int().positive().describe('Tokens reserved from this run for the child run, which gets them as its own budget'),
});

export const WorkflowStep = z.strictObject({
  description: z.string().optional(),
  next: StepId.optional().describe('Step to go to after this one'),
  onError: StepId.optional().describe('Step to go to when the child run fails'),
  maxVisits,
  workflow: z
    .strictObject({
      id: StepId.optional().describe('Id of the workflow to start (engine `workflows`, else a definition file beside this one)'),
      file: z.string().min(1).optional().describe('Definition file of the workflow to start, relative to this file'),
      input: Mapping.optional().describe('The child run input'),
      budget: ChildBudget.optional().describe('A slice of this run\'s budget for the child (default: it shares what is left)'),
    })
    .refine((w) => (w.id === undefined) !== (w.file === undefined), 'give exactly one of workflow.id and workflow.file'),
});

type WorkflowSpec = z.infer<typeof WorkflowStep>;

const moved: Advance = { kind: 'moved' };
/** A step that would start or drive its child, in a drive that fires only what is due: it stays where it is. */
const startsNothing: Advance = { kind: 'rest' };

function childId(run: RunScope, id: string): string {
  return childIdOf(run.runId, id, run.context().visits[id] ?? 1);
}

/** What a child run starts from: its definition and its input (checked against the definition's input schema). */
interface PreparedChild {
  readonly source: DefinitionSource;
  readonly input: unknown;
}

/** Resolves the child's definition and evaluates its input; throws when the child cannot start (missing or broken definition, invalid input). */
async function prepareChild(run: RunScope, step: WorkflowSpec): Promise<PreparedChild> {
  if (!run.children) throw new Error('this engine runs no child runs');
  const source = await run.children.resolve(run, step.workflow);
  const input = step.workflow.input === undefined ? {} : await evaluateMapping(compileMapping(step.workflow.input), scopeOf({ runId: run.runId, context: run.context() }));
  await checkChildInput(source, input);
  return { source, input };
}

/** Fails the running step because its child cannot start: no retry. */
function childCannotStart(run: RunScope, id: string, error: unknown, at: number, kind: 'invalid_data' | 'loop' | 'tool_error' = 'invalid_data'): void {
  const message = (error as Error).message;
  run.note({ ...run.where(id), event: 'failed', error: { kind, message } });
  run.send({ type: 'step.failed', step: id, at, usage: zeroUsage, error: { kind, message }, retryable: false, retryAt: null });
}

/** The child's token budget now: the step's slice (`workflow.budget.tokens`, within the child definition's `budget`) or a share of the parent's. */
function budgetOf(run: RunScope, step: WorkflowSpec, child: Workflow) {
  const slice = step.workflow.budget?.tokens;
  return slice === undefined ? sharedChildBudget(run.context(), run.budget) : childBudget(run.context(), slice, child.budget);
}

/**
 * Creates the step's child run, or returns it when it exists (its id is derived from the parent's, the step and
 * its visit, so a resume after a crash between the step's start and this finds the same run and never makes a
 * second). The step has started: its visit and budget are those of the committed start.
 */
async function createChild(run: RunScope, id: string, step: WorkflowSpec, prepared: PreparedChild): Promise<RunRecord> {
  const visit = run.context().visits[id] ?? 1;
  const child = await run.children!.create(run, {
    id: childId(run, id), parent: { runId: run.runId, step: id, visit }, source: prepared.source, input: prepared.input, budget: budgetOf(run, step, prepared.source.workflow),
  });
  crashPoint('child-created');
  return child;
}

/**
 * The step's start: its child's definition and input are checked, then the start is committed (naming the child
 * to be), and only then is the child created, so a crash leaves either no start (the step starts again) or a
 * started step whose child may be missing, which {@link running} creates.
 */
async function start(run: RunScope, id: string, step: WorkflowSpec): Promise<Advance> {
  const now = run.clock.now();
  const slice = step.workflow.budget?.tokens;
  // A path test takes the step's error route: it fails as it starts, its child not started (its slice projected as
  // a start's, so the path's worst case counts what a child that failed may have spent).
  const forced = forcedFailure(run, id);
  if (forced !== null) {
    run.send({ type: 'step.run', step: id, at: now, projectedTokens: slice ?? 0, projectedUsd: 0 });
    if (run.phaseOf(id) !== 'running') return refusedStart(run, id);
    childCannotStart(run, id, new Error(forced), now, 'tool_error');
    return moved;
  }
  // The child would nest deeper than the limit: the step fails as a loop, before anything else is looked at.
  const tooDeep = depthRefusal(nestingIn(run), id);
  if (tooDeep !== null) {
    run.send({ type: 'step.run', step: id, at: now, projectedTokens: 0, projectedUsd: 0 });
    childCannotStart(run, id, new Error(tooDeep), now, 'loop');
    return moved;
  }
  let prepared: PreparedChild;
  try {
    prepared = await prepareChild(run, step);
  } catch (error) {
    // The child cannot start (its definition is missing or broken, its input invalid): the step fails, no retry.
    run.send({ type: 'step.run', step: id, at: now, projectedTokens: 0, projectedUsd: 0 });
    childCannotStart(run, id, error, now);
    return moved;
  }
  run.send({ type: 'step.run', step: id, at: now, projectedTokens: slice ?? 0, projectedUsd: 0 });
  if (run.phaseOf(id) === 'running') {
    run.note({ ...run.where(id), event: 'started', data: { child: childId(run, id), workflow: prepared.source.workflow.id, budget: budgetOf(run, step, prepared.source.workflow).tokens } });
    await run.commit();
    crashPoint('step-started');
    try {
      await createChild(run, id, step, prepared);
    } catch (error) {
      // The child's id is taken by a run this step did not start, or the store refused it: the step fails.
      if (interruptedDrive(run)) return moved;
      childCannotStart(run, id, error, now);
    }
    return moved;
  }
  return refusedStart(run, id);
}

async function running(run: RunScope, id: string, step: WorkflowSpec): Promise<Advance> {
  const resting = restingUntil(run, id);
  if (resting) return resting;
  if (run.mode === 'step' && run.executed() > 0) return { kind: 'stop' };
  if (run.mode === 'due' && !(await childTimersDue(run, id))) return startsNothing;
  return {
    kind: 'effect',
    run: async () => {
      // A sibling branch's failure (fail_fast) aborts the step: the child's drive stops where it is. Taken before
      // anything is awaited, so an abort meanwhile is not missed.
      const stop = run.stepSignal(id);
      const visit = run.context().visits[id] ?? 1;
      // What the child spent that the run was charged already (its spend beyond it, after a crash, the pool counts from the start).
      const charged = stepRunOf(run.context(), id).charged ?? zeroUsage;
      const children = run.children!;
      const at = run.clock.now();
      let child: RunRecord | null;
      try {
        child = await children.get(childId(run, id), { runId: run.runId, step: id, visit });
        // The step's start was committed but the process stopped before its child was created: create it now.
        child ??= await createChild(run, id, step, await prepareChild(run, step));
      } catch (error) {
        if (interruptedDrive(run)) return;
        childCannotStart(run, id, error, at);
        return;
      }
      // No attempt since a resume: the parent was resumed here, so a child that stopped where a resume continues it is
      // resumed too (not by a drive that only fires what is due).
      const resume = run.mode !== 'due' && attemptsSinceResume(stepRunOf(run.context(), id)) === 0 && children.resumable(child);
      run.budget.owe({ totalTokens: child.usage.totalTokens - charged.totalTokens, usd: child.usage.usd - charged.usd });
      // A child that ran out of its slice goes on, once the parent is resumed, with what the parent's pool has left
      // (the resume is the decision to spend more; the same slice again would stop it at the same call), and keeps
      // that on its later drives here: its stored budget is then no longer the slice's.
      const declared = step.workflow.budget?.tokens;
      const sliced = declared === undefined ? null : childBudget(run.context(), declared, child.definition.workflow.budget);
      const lifted = sliced !== null && ((resume && child.status === 'budget_exhausted') || upgradeSnapshot(child.snapshot as SnapshotLike).context.budget.tokens !== sliced.tokens);
      const slice = lifted ? undefined : declared;
      const budget = sliced === null || lifted ? sharedChildBudget(run.context(), run.budget, child.usage) : sliced;
      const driven = await children.drive(run, child, {
        stop,
        ...(slice !== undefined ? { slice } : {}),
        ...(resume ? { event: { event: { type: 'run.resume', at, budget }, journal: [{ step: null, visit: 0, attempt: 0, event: 'resumed', at, data: { budget, parent: run.runId } }] } } : {}),
      });
      const stopped = stopOf(run, stop);
      if (stopped?.kind === 'drive') return;
      // Aborted or cancelled: what the child and the runs below it spent (they stopped mid-step, their spend not settled up to it).
      if (stopped) return chargeAborted(run, id, addUsage(driven.usage, await children.uncounted(driven)), stopped.reason, { visit, charged });
      crashPoint('after-child');
      run.countExecuted();
      const now = run.clock.now();
      const event = childSettled(id, driven, now);
      if (event.type === 'child.rest') return chargeResting(run, id, event);
      sendCharged(run, event);
      if (event.type === 'step.done') {
        run.note({ ...run.where(id), at: now, event: 'completed', output: driven.output, usage: await unjournaled(run, id, driven.usage), data: { child: driven.id } });
      } else if (event.type === 'step.failed' && 'error' in event) {
        const usage = await unjournaled(run, id, driven.usage);
        run.note({ ...run.where(id), at: now, event: run.phaseOf(id) === 'budget_exhausted' ? 'budget_exhausted' : 'failed', usage, error: { kind: event.error.kind, message: event.error.message }, data: { child: driven.id } });
      }
    },
  };
}

export const workflowKind = defineStepKind<WorkflowSpec>({
  name: 'workflow',
  schema: WorkflowStep,
  flows: true,
  entered: 'running',
  state: (id, step, scope) => childState(id, step, scope, 'workflow'),
  edges: (_id, step, next) => workEdges(step, next),
  expressions: (step) => [[step.workflow.input, ['workflow', 'input']]],
  // With a slice the child can spend no more than it; without one its bound is its own definition's (`validate` it).
  worstCase: (step) => (step.workflow.budget ? { inputTokens: step.workflow.budget.tokens, maxTokens: 0, attempts: 1 } : null),
  wakeAt: childWakeAt,
  label: (step) => `workflow ${step.workflow.id ?? step.workflow.file}`,
  pathEvents: (id, _step, phase) => workPathEvents(id, phase),
  handler: {
    async advance(run, { id, phase }, step) {
      switch (phase) {
        case 'ready':
          return run.mode === 'due' ? startsNothing : start(run, id, step);
        case 'running':
          return running(run, id, step);
        case 'waiting':
          return waitingChild(run, id, { child: childId(run, id) });
        default:
          return { kind: 'rest' }; // failed or budget_exhausted: until resumed
      }
    },
  },
});
