/**
 * Path tests: every simple path of a definition's compiled machine, found
 * with `@xstate/graph`, then driven on a model server (the emulator) with the
 * real tools, the branch and event choices forced to follow the path. Reports
 * unreachable steps, dead ends (steps from which no final step can be
 * reached), paths whose worst case can exceed the budget, and paths that fail.
 */
import { getAdjacencyMap } from '@xstate/graph';
import { createActor, type AnyMachineSnapshot } from 'xstate';
import { DONE_STATE, type RunContext } from '../compile/context.js';
import { isWaitEventType } from '../compile/events.js';
import { compile } from '../compile/machine.js';
import { startStep } from '../definition/graph.js';
import type { Workflow } from '../definition/schema.js';
import { activeSteps } from '../engine/driver.js';
import { kindNamed, kindOf } from '../kinds/index.js';
import { stepRunOf } from '../compile/context.js';
import type { FinalStep } from '../definition/schema.js';
import { compileMapping, evaluateMapping } from '../expr/index.js';
import { positionOf, type SnapshotLike } from '../engine/position.js';
import type { ModelConfig } from '../model/client.js';
import { resolveRetry } from '../policy/backoff.js';
import { resolveBudget } from '../policy/budget.js';
import { visitWorstCase } from '../policy/worst-case.js';
import { zeroUsage } from '../run/types.js';
import { scopeOf, type StepEnv, type StepOutcome } from '../steps/types.js';
import type { AnyTool } from '../tools/define.js';

/** What a path does at a step: a work step succeeds or takes its error route, a choice takes a branch, a wait gets an event. */
export type Decision = { step: string; take: 'done' | 'error' | `branch ${number}` | string };

export interface PathResult {
  readonly steps: readonly string[];
  readonly decisions: readonly Decision[];
  readonly status: 'done' | 'failed' | 'budget_exhausted';
  readonly tokens: number;
  /** Every model step on the path at its projected cost, times its attempts. */
  readonly worstCaseTokens: number;
  readonly error: string | null;
}

export interface Finding {
  readonly kind: 'unreachable' | 'dead_end' | 'over_budget' | 'path_failed';
  readonly message: string;
}

export interface PathReport {
  readonly workflow: string;
  readonly budget: { readonly tokens: number; readonly limit: number };
  readonly reached: readonly string[];
  readonly paths: readonly PathResult[];
  readonly findings: readonly Finding[];
}

type Ev = { type: string; at: number } & Record<string, unknown>;
const top = (snapshot: { value: unknown }) => (typeof snapshot.value === 'string' ? snapshot.value : Object.keys(snapshot.value as object)[0]!);

/** The events that can move a snapshot on, with guards' inputs set so every declared route is possible: each active step's kind says which. */
function eventsFor(workflow: Workflow, snapshot: AnyMachineSnapshot): Ev[] {
  const { steps } = activeSteps(snapshot);
  return steps.flatMap((step) => {
    const spec = workflow.steps[step.id];
    return spec ? (kindNamed(step.kind)?.pathEvents(step.id, spec, step.phase) ?? []).map((e) => ({ ...e }) as Ev) : [];
  });
}

function decisionOf(workflow: Workflow, step: string, event: Ev): Decision['take'] {
  if (event.type === 'step.done') return 'done';
  if (event.type === 'step.failed') return 'error';
  if (event.type === 'choice.take') return `branch ${String(event['index'])}`;
  return event.type;
}

/** The simple paths from the start to a final step, and the steps the machine can reach at all. */
export function enumeratePaths(workflow: Workflow, input: unknown) {
  const machine = compile(workflow);
  const budget = resolveBudget(workflow.budget);
  const options = {
    input: { input, budget, at: 0 },
    serializeState: (s: AnyMachineSnapshot) => JSON.stringify(s.value),
    events: (s: AnyMachineSnapshot) => eventsFor(workflow, s),
  };
  const adjacency = getAdjacencyMap(machine, options as never) as Adjacency;
  const reached = new Set<string>();
  const out = new Map<string, Set<string>>();
  for (const { state, transitions } of Object.values(adjacency)) {
    const from = top(state);
    if (from === DONE_STATE) continue; // where a final step's output leads once evaluated: not a step
    reached.add(from);
    for (const { event, state: next } of Object.values(transitions)) {
      if (event.type.startsWith('run.') || event.type.startsWith('final.')) continue;
      const to = top(next);
      reached.add(to);
      if (!out.has(from)) out.set(from, new Set());
      out.get(from)!.add(to);
    }
  }
  const routes = new Map<string, { steps: string[]; decisions: Decision[] }>();
  for (const path of simplePathsToDone(adjacency)) {
    if ((path.state as AnyMachineSnapshot).status !== 'done') continue;
    const events = path.steps.map((s) => s.event as Ev);
    if (events.some((e) => e.type.startsWith('run.') || e.type === 'choice.none')) continue;
    const steps: string[] = [];
    const decisions: Decision[] = [];
    // Each path step holds the snapshot the event led to; the decision belongs to the step before it.
    path.steps.forEach((s, i) => {
      const step = i === 0 ? startStep(workflow) : top(path.steps[i - 1]!.state as AnyMachineSnapshot);
      if (steps[steps.length - 1] !== step) steps.push(step);
      const event = s.event as Ev;
      if (event.type === 'step.run' || event.type === 'final.done' || event.type.startsWith('xstate.')) return;
      decisions.push({ step, take: decisionOf(workflow, step, event) });
    });
    const last = top(path.state as AnyMachineSnapshot);
    if (last !== DONE_STATE && steps[steps.length - 1] !== last) steps.push(last);
    routes.set(JSON.stringify(decisions), { steps, decisions });
  }
  return { machine, budget, reached, out, routes: [...routes.values()] };
}

type Adjacency = Record<string, { state: AnyMachineSnapshot; transitions: Record<string, { event: Ev; state: AnyMachineSnapshot }> }>;

/** A simple path as `@xstate/graph` reports one: the snapshot reached and each step's event and the snapshot it led to. */
interface SimplePath {
  readonly state: AnyMachineSnapshot;
  readonly steps: ReadonlyArray<{ readonly event: Ev; readonly state: AnyMachineSnapshot }>;
}

/**
 * Every simple path (no state twice) from the initial snapshot (the first
 * entry of the adjacency map) to a snapshot whose machine is done; grouped by
 * target in the map's order, each group in depth-first order, each path
 * starting with `xstate.init`: what `getSimplePaths` of `@xstate/graph`
 * yields, filtered to done states. Unlike it, the walk keeps its own stack
 * and walks once for all targets, so a chain of thousands of steps neither
 * overflows the call stack nor takes minutes.
 */
function simplePathsToDone(adjacency: Adjacency): SimplePath[] {
  const keys = Object.keys(adjacency);
  const start = keys[0];
  if (start === undefined) return [];
  const found = new Map<string, SimplePath[]>(keys.map((key) => [key, []]));
  const onPath = new Set<string>([start]);
  const steps: Array<{ event: Ev; state: AnyMachineSnapshot }> = [{ event: { type: 'xstate.init', at: 0 }, state: adjacency[start]!.state }];
  const frames: Array<{ serial: string; moves: Array<{ event: Ev; state: AnyMachineSnapshot }>; next: number }> = [];
  const enter = (serial: string) => frames.push({ serial, moves: Object.values(adjacency[serial]?.transitions ?? {}), next: 0 });
  enter(start);
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    const move = frame.moves[frame.next++];
    if (!move) {
      frames.pop();
      onPath.delete(frame.serial);
      steps.pop();
      continue;
    }
    const serial = JSON.stringify(move.state.value);
    if (onPath.has(serial)) continue;
    steps.push({ event: move.event, state: move.state });
    if (move.state.status === 'done') {
      found.get(serial)?.push({ state: move.state, steps: [...steps] });
      steps.pop();
      continue;
    }
    onPath.add(serial);
    enter(serial);
  }
  return [...found.values()].flat();
}

/** Drives one path on `model` with the real tools; choices and events follow the path. */
async function runPath(
  workflow: Workflow,
  machine: ReturnType<typeof compile>,
  route: { steps: string[]; decisions: Decision[] },
  deps: { input: unknown; tools: ReadonlyMap<string, AnyTool>; model: ModelConfig },
): Promise<PathResult> {
  const budget = resolveBudget(workflow.budget);
  const actor = createActor(machine, { input: { input: deps.input, budget, at: Date.now() } }).start();
  const take = new Map(route.decisions.map((d) => [d.step, d.take]));
  const context = () => actor.getSnapshot().context as RunContext;
  let worst = 0;
  let error: string | null = null;
  const signal = new AbortController().signal;
  try {
    for (let i = 0; i < 1000; i++) {
      const pos = positionOf(workflow, actor.getSnapshot() as unknown as SnapshotLike);
      const at = Date.now();
      if (pos.kind === 'work') {
        const executor = kindOf(workflow.steps[pos.step]!)?.executor;
        if (!executor) break;
        const env: StepEnv = {
          runId: 'path-test',
          stepId: pos.step,
          visit: context().visits[pos.step] ?? 1,
          attempt: Math.max(stepRunOf(context(), pos.step).attempt, 1),
          workflow,
          context: context(),
          tools: deps.tools,
          model: deps.model,
          signal,
        };
        if (pos.phase === 'ready') {
          const prepared = await executor.prepare(env);
          if (prepared.request && stepRunOf(context(), pos.step).attempt === 0) {
            const step = workflow.steps[pos.step] as { retry?: Workflow['retry'] };
            const maxTokens = prepared.request.maxTokens;
            worst += visitWorstCase(prepared.projectedTokens - maxTokens, maxTokens, resolveRetry(step.retry, workflow.retry).maxAttempts);
          }
          actor.send({ type: 'step.run', at, projectedTokens: prepared.projectedTokens, projectedUsd: prepared.projectedUsd });
          const after = positionOf(workflow, actor.getSnapshot() as unknown as SnapshotLike);
          if (after.kind === 'work' && after.phase === 'running') {
            const outcome: StepOutcome =
              take.get(pos.step) === 'error'
                ? { ok: false, error: { kind: 'tool_error', message: 'failure forced by the path test' }, retryable: false, usage: zeroUsage, latencyMs: 0 }
                : await executor.execute({ ...env, attempt: stepRunOf(context(), pos.step).attempt }, prepared);
            if (outcome.ok) actor.send({ type: 'step.done', at, output: outcome.output, usage: outcome.usage });
            else {
              actor.send({ type: 'step.failed', at, usage: outcome.usage, error: outcome.error, retryable: outcome.retryable, retryAt: at });
              error = `${pos.step}: ${outcome.error.kind}: ${outcome.error.message}`;
            }
          }
          continue;
        }
        if (pos.phase === 'retrying') {
          actor.send({ type: 'step.retry', at });
          continue;
        }
        break; // failed or budget_exhausted
      }
      if (pos.kind === 'choice') {
        actor.send({ type: 'choice.take', at, index: Number(String(take.get(pos.step) ?? 'branch 0').split(' ')[1]) });
        continue;
      }
      if (pos.kind === 'wait') {
        const event = take.get(pos.step) ?? 'wait.timeout';
        // A name the machine cannot accept is not sent: the machine would ignore it anyway.
        if (event === 'wait.timeout') actor.send({ type: event, at });
        else if (isWaitEventType(event)) actor.send({ type: event, at, data: { by: 'stepwise test' } });
        continue;
      }
      if (pos.kind === 'finishing') {
        const output = (workflow.steps[pos.step] as FinalStep).output;
        try {
          if (output !== undefined) await evaluateMapping(compileMapping(output), scopeOf({ runId: 'path-test', context: context() }));
          actor.send({ type: 'final.done', at });
        } catch (failure) {
          error = `${pos.step}: invalid_data: ${(failure as Error).message}`;
          actor.send({ type: 'final.failed', at, message: `the output of final step "${pos.step}" failed: ${(failure as Error).message}` });
        }
        continue;
      }
      break;
    }
    const snapshot = actor.getSnapshot();
    const pos = positionOf(workflow, snapshot as unknown as SnapshotLike);
    const status = pos.kind === 'final' ? 'done' : pos.kind === 'work' && pos.phase === 'budget_exhausted' ? 'budget_exhausted' : 'failed';
    return {
      steps: route.steps,
      decisions: route.decisions,
      status,
      tokens: context().usage.totalTokens,
      worstCaseTokens: worst,
      error: status === 'done' ? null : (context().failure?.message ?? error),
    };
  } finally {
    actor.stop();
  }
}

/**
 * Walks every path of `workflow` and reports what is wrong with it.
 *
 * @example
 * ```ts
 * const report = await testPaths(definition.workflow, { input, tools: toolMap(definition.tools), model: resolveModel({ baseURL: emu.url }) });
 * if (report.findings.length) process.exitCode = 1;
 * ```
 */
export async function testPaths(
  workflow: Workflow,
  deps: { input: unknown; tools: ReadonlyMap<string, AnyTool>; model: ModelConfig },
): Promise<PathReport> {
  const { machine, budget, reached, out, routes } = enumeratePaths(workflow, deps.input);
  const findings: Finding[] = [];
  const ids = Object.keys(workflow.steps);
  for (const id of ids) if (!reached.has(id)) findings.push({ kind: 'unreachable', message: `step "${id}" cannot be reached from the start` });

  const finals = ids.filter((id) => kindOf(workflow.steps[id]!)?.ends === true);
  // Steps that can reach a final step: a walk backwards from the finals.
  const into = new Map<string, string[]>();
  for (const [from, tos] of out) {
    for (const to of tos) {
      if (!into.has(to)) into.set(to, []);
      into.get(to)!.push(from);
    }
  }
  const finishing = new Set(finals);
  const queue = [...finals];
  for (let head = 0, id = queue[0]; id !== undefined; id = queue[++head]) {
    for (const from of into.get(id) ?? []) {
      if (!finishing.has(from)) {
        finishing.add(from);
        queue.push(from);
      }
    }
  }
  for (const id of ids) {
    if (reached.has(id) && !finishing.has(id)) findings.push({ kind: 'dead_end', message: `step "${id}" is a dead end: no final step can be reached from it` });
  }

  const limit = Math.floor(budget.tokens * budget.stopAt);
  const paths: PathResult[] = [];
  for (const route of routes) {
    const result = await runPath(workflow, machine, route, deps);
    paths.push(result);
    const name = route.steps.join(' → ');
    if (result.status === 'budget_exhausted' || result.worstCaseTokens > limit) {
      findings.push({
        kind: 'over_budget',
        message: `path ${name} can exceed the budget: worst case ${result.worstCaseTokens} tokens (used ${result.tokens}) against ${limit} (${budget.tokens} × stopAt ${budget.stopAt})`,
      });
    } else if (result.status === 'failed') {
      findings.push({ kind: 'path_failed', message: `path ${name} failed on the model server: ${result.error ?? 'unknown error'}` });
    }
  }
  return { workflow: workflow.id, budget: { tokens: budget.tokens, limit }, reached: [...reached].filter((id) => ids.includes(id)), paths, findings };
}
