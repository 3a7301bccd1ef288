/**
 * `parallel`: named branches, each a sequence of steps of any kind, run side
 * by side. Compiled to a compound state whose `branches` phase is an XState
 * parallel state with one region per branch; a region ends in its own final
 * state (`$end:<step>:<branch>`) when its last step flows out. When every
 * region has ended the step records `{ <branch>: <output of the branch's last
 * step> }` and goes on by `next`.
 *
 * A branch fails when one of its steps fails for good (its `failed` phase).
 * `onBranchError: fail_fast` (default): the handler aborts the running steps
 * of the other branches through their abort signals and the step fails (→
 * `onError`, else the run fails, resumable: resume runs every branch again;
 * when the failed step is a map that failed on its items, the failure keeps
 * the run's snapshot of that moment, from which `redrive` goes on).
 * `collect`: the failed branch ends with `{ error: { step, kind, message } }`
 * as its output and the others run on; the step succeeds.
 */
import { z } from 'zod';
import { attemptsSinceResume, FAILED_STATE, stepRunOf } from '../compile/context.js';
import { noteAborted, unjournaled } from '../engine/child-budget.js';
import type { RunScope } from '../engine/scope.js';
import { originBelow } from '../engine/failure-origin.js';
import { zeroUsage } from '../run/types.js';
import type { RunEvent } from '../compile/events.js';
import { stateIdOf, target, type StateConfig } from '../compile/setup.js';
import { maxVisits, StepId } from '../definition/fields.js';
import type { Workflow } from '../definition/schema.js';
import { branchEndId } from './branch-end.js';
import { defineStepKind, type KindEdge, type KindFinding, type NestedSequence, type StepKindDefinition } from './types.js';
import { visitLimit, workEdges } from './work.js';

type AnyStep = Workflow['steps'][string];

/** A branch of a parallel step. */
export interface ParallelBranch {
  readonly steps: Readonly<Record<string, AnyStep>>;
  readonly start?: string | undefined;
}

/** A parallel step as its schema parses it. */
export interface ParallelStepSpec {
  readonly description?: string | undefined;
  readonly maxVisits?: number | undefined;
  readonly next?: string | undefined;
  readonly onError?: string | undefined;
  readonly parallel: {
    readonly branches: Readonly<Record<string, ParallelBranch>>;
    readonly onBranchError?: 'fail_fast' | 'collect' | undefined;
  };
}

/** The schema of a parallel step whose branch steps are `step()` (any step kind). */
export function parallelStepSchema(step: () => z.ZodType) {
  const Branch = z.strictObject({
    steps: z
      .record(StepId, z.lazy(step))
      .refine((s) => Object.keys(s).length > 0, 'a branch needs at least one step')
      .describe('The steps of the branch; ids are unique across the workflow. A step without next flows to the one listed after it; the last one ends the branch'),
    start: StepId.optional().describe('First step of the branch (default: the first one listed)'),
  });
  return z.strictObject({
    description: z.string().optional(),
    maxVisits,
    parallel: z.strictObject({
      branches: z
        .record(StepId, Branch)
        .refine((b) => Object.keys(b).length > 0, 'a parallel step needs at least one branch')
        .describe('Branches by name, run side by side; the output is { <branch>: <output of its last step> }'),
      onBranchError: z
        .enum(['fail_fast', 'collect'])
        .optional()
        .describe('fail_fast (default): the first failed branch aborts the others and fails the step; collect: failed branches end with { error } as output and the step succeeds'),
    }),
    next: StepId.optional().describe('Step to go to once every branch has ended'),
    onError: StepId.optional().describe('Step to go to when a branch fails (fail_fast)'),
  });
}

/** The steps of branch `branch`, in the order listed (not the steps nested deeper). */
const branchSteps = (spec: ParallelStepSpec, branch: string): string[] => Object.keys(spec.parallel.branches[branch]?.steps ?? {});

/** The branch steps of `spec` at any depth (steps of nested parallel steps included). */
function nestedIds(spec: ParallelStepSpec, sequencesOf: (step: AnyStep) => readonly NestedSequence[]): string[] {
  const out: string[] = [];
  const walk = (steps: Readonly<Record<string, AnyStep>>) => {
    for (const [id, step] of Object.entries(steps)) {
      out.push(id);
      for (const inner of sequencesOf(step)) walk(inner.steps);
    }
  };
  for (const branch of Object.values(spec.parallel.branches)) walk(branch.steps);
  return out;
}

/**
 * What the run was charged for the children of the branch steps it leaves that its journal does not carry, journaled
 * now as a cancelled entry of each such step (`data.aborted`, nothing charged again), so the journal still sums to the
 * run's usage. (A `map` or `workflow` step journals its rests' charges as it rests, ../engine/child-budget.ts
 * `chargeResting`: this finds what a run journaled by an earlier version charged at its rests.) A step whose effect
 * was running adds what its children spent beyond that when it stops (`chargeAborted`).
 */
async function journalLeftCharges(run: RunScope, steps: readonly string[], reason: string, at: number): Promise<void> {
  for (const step of steps) {
    const charged = stepRunOf(run.context(), step).charged;
    if (!charged) continue;
    const { visit } = run.where(step);
    const usage = await unjournaled(run, step, charged, visit);
    if (usage.totalTokens === 0 && usage.usd === 0) continue;
    noteAborted(run, { step, visit, at }, usage, zeroUsage, `the step was left: ${reason}`);
  }
}

/**
 * The parallel step kind. `anyStep` is the schema of a step of any registered
 * kind (the branch steps), `sequencesOf` the nested sequences of a step.
 */
export function createParallelKind(anyStep: () => z.ZodType, sequencesOf: (step: AnyStep) => readonly NestedSequence[]): StepKindDefinition<ParallelStepSpec> {
  const schema = parallelStepSchema(anyStep) as unknown as z.ZodType<ParallelStepSpec>;
  return defineStepKind<ParallelStepSpec>({
    name: 'parallel',
    schema,
    flows: true,
    routeHint: '; a parallel step goes on by next once every branch has ended, and by onError when a branch fails',
    entered: 'running',
    sequences: (step) =>
      Object.entries(step.parallel.branches).map(([name, branch]) => ({
        name,
        steps: branch.steps,
        start: branch.start,
        path: ['parallel', 'branches', name, 'steps'],
      })),
    state: (id, step, scope): StateConfig => {
      const regions: Record<string, StateConfig> = {};
      const branches: Record<string, string[]> = {};
      for (const [name, branch] of Object.entries(step.parallel.branches)) {
        const ids = Object.keys(branch.steps);
        branches[name] = ids;
        const end = branchEndId(id, name);
        const states: Record<string, StateConfig> = {};
        for (const member of ids) states[member] = scope.stepState(member);
        states[end] = { id: stateIdOf(end), type: 'final' };
        regions[name] = {
          initial: branch.start ?? ids[0]!,
          states,
          on: {
            // collect: the failed branch ends here, its error kept as its output.
            'parallel.collect': { guard: { type: 'branchNamed', params: { step: id, branch: name } }, target: target(end), actions: 'clearFailure' },
          },
        };
      }
      const nested = nestedIds(step, sequencesOf);
      const close = { type: 'closeVisits', params: { steps: nested } } as const;
      const params = { step: id };
      return {
        initial: 'branches',
        entry: [{ type: 'enterStep', params: { step: id, status: 'running' } }],
        meta: { stepwise: { kind: 'parallel' } },
        always: visitLimit(id, step, scope),
        states: {
          branches: {
            type: 'parallel',
            states: regions,
            onDone: { target: scope.next ? target(scope.next) : target(FAILED_STATE), actions: { type: 'recordBranches', params: { step: id, branches } } },
            on: {
              // Guarded by the step they name, with no targetless fallback: a parallel step nested in a branch must let
              // the events of the step around it pass up to it.
              'parallel.start': { guard: { type: 'forStep', params }, actions: { type: 'startAttempt', params } },
              'parallel.fail': step.onError
                ? { guard: { type: 'forStep', params }, target: target(step.onError), actions: [close, { type: 'routeError', params }] }
                : { guard: { type: 'forStep', params }, target: 'failed', actions: [close, { type: 'failStep', params }] },
            },
          },
          failed: { on: { 'run.resume': { target: 'branches', actions: { type: 'resumeRun', params } } } },
        },
      };
    },
    edges: (_id, step, next): KindEdge[] => workEdges(step, next),
    check: (_id, step) => {
      const errors: KindFinding[] = [];
      for (const [name, branch] of Object.entries(step.parallel.branches)) {
        if (branch.start !== undefined && !branch.steps[branch.start]) {
          errors.push({
            path: ['parallel', 'branches', name, 'start'],
            message: `no step named "${branch.start}" in branch "${name}"; its steps are: ${Object.keys(branch.steps).join(', ')}`,
          });
        }
      }
      return { errors, warnings: [] };
    },
    label: (step) => `branches ${Object.keys(step.parallel.branches).join(' | ')}`,
    // A branch whose step failed for good: collect ends it with its error, fail_fast fails the step (→ onError).
    pathEvents: (id, step, phase, phaseOf) => {
      if (phase !== 'branches') return [];
      return Object.keys(step.parallel.branches).flatMap((branch): RunEvent[] => {
        if (!branchSteps(step, branch).some((member) => phaseOf(member) === 'failed')) return [];
        return step.parallel.onBranchError === 'collect'
          ? [{ type: 'parallel.collect', step: id, branch, at: 0 }]
          : [{ type: 'parallel.fail', step: id, branch, at: 0, error: { kind: 'tool_error', message: 'forced' } }];
      });
    },
    handler: {
      async advance(run, { id, phase }, spec) {
        if (phase !== 'branches') return { kind: 'rest' }; // failed: until resumed
        if (attemptsSinceResume(stepRunOf(run.context(), id)) === 0) {
          // The branches start: journaled once per visit and resume, each time as a new attempt (the driver journals the
          // step's completion when its last branch ends).
          run.send({ type: 'parallel.start', step: id, at: run.clock.now() });
          run.note({ ...run.where(id), event: 'started', data: { branches: Object.keys(spec.parallel.branches) } });
          return { kind: 'moved' };
        }
        for (const name of Object.keys(spec.parallel.branches)) {
          const failed = branchSteps(spec, name).find((member) => run.phaseOf(member) === 'failed');
          if (failed === undefined) continue;
          const at = run.clock.now();
          const result = run.context().steps[failed];
          const cause = result?.error ?? run.context().failure ?? { kind: 'tool_error' as const, message: 'failed' };
          if (spec.parallel.onBranchError === 'collect') {
            run.note({ ...run.where(id), event: 'branch_failed', data: { branch: name, step: failed }, error: { kind: cause.kind, message: cause.message } });
            run.send({ type: 'parallel.collect', step: id, branch: name, at });
            return { kind: 'moved' };
          }
          // fail_fast: the running steps of the other branches are aborted; their attempts end as cancelled.
          const reason = `branch "${name}" of "${id}" failed`;
          const nested = nestedIds(spec, sequencesOf);
          for (const other of nested) if (other !== failed) run.abortStep(other, reason);
          const error = { kind: cause.kind, message: `branch "${name}" failed at step "${failed}": ${cause.message}` };
          // Where a failure that came up from below the member began: the run's failure keeps it while it is the member's.
          const own = run.context().failure;
          const origin = originBelow(failed, own?.step === failed ? own : cause);
          // A map that failed on its items, and no onError takes the failure: the run as it is now, with the map in its
          // failed phase, is where a redrive goes on from.
          const checkpoint = !spec.onError && (result?.error?.items?.length ?? 0) > 0 ? { checkpoint: run.persisted() } : {};
          run.send({ type: 'parallel.fail', step: id, branch: name, at, error: { ...error, member: failed, origin } });
          run.note({ ...run.where(id), event: 'failed', data: { branch: name, step: failed, ...checkpoint }, error });
          await journalLeftCharges(run, nested, reason, at);
          return { kind: 'moved' };
        }
        return { kind: 'rest' };
      },
    },
  });
}
