/**
 * Path tests: every simple path of a definition's compiled machine, found
 * with `@xstate/graph`, then each driven by the real engine (its driver,
 * guards, journal, budget and breakers; a memory store and a manual clock) on
 * a model server (the emulator) with the real tools, with the path's decisions
 * forced: error routes (a parallel step's failing branches included), choice
 * branches, wait events and timeouts. Reports unreachable steps, dead ends
 * (steps from which no final step can be reached), paths whose worst case can
 * exceed the budget, paths that fail, paths whose run did not follow them (see
 * ./path-trail.ts), and a failure of the input's own run (nothing forced) on a
 * route no path takes (a loop its limit stops). The child runs a step starts (a
 * map body, a `workflow` step's definition) are walked the same way, each with
 * the input a run of the parent gave it, and counted in the parent's worst case.
 */
import { stepIds, stepOf } from '../definition/sequences.js';
import type { Middleware } from '@anthropic-ai/sdk';
import { getAdjacencyMap } from '@xstate/graph';
import type { AnyMachineSnapshot, InspectionEvent } from 'xstate';
import { attemptsSinceResume, DONE_STATE, stepRunOf, type RunContext } from '../compile/context.js';
import { compile } from '../compile/machine.js';
import { startStep } from '../definition/graph.js';
import type { Workflow } from '../definition/schema.js';
import { activeSteps } from '../engine/driver.js';
import { kindNamed, kindOf } from '../kinds/index.js';
import { ManualClock } from '../engine/clock.js';
import { createEngine } from '../engine/engine.js';
import { positionOf, type SnapshotLike } from '../engine/position.js';
import type { ModelConfig } from '../model/client.js';
import { DEFAULT_MAX_TOKENS } from '../model/defaults.js';
import { resolveRetry } from '../policy/backoff.js';
import { resolveBudget } from '../policy/budget.js';
import { visitWorstCase } from '../policy/worst-case.js';
import { zeroUsage } from '../run/types.js';
import { createMemoryStore } from '../store/memory.js';
import type { Store } from '../store/types.js';
import { toView } from '../engine/view.js';
import type { AnyTool, ToolContext } from '../tools/define.js';
import { toolInputSchema, toolOutputSchema } from '../tools/define.js';
import { loadDefinition } from '../definition/load.js';
import type { MapSpec } from '../kinds/map-body.js';
import { itemsSchema } from '../kinds/map-input.js';
import type { ToolSchema } from '../kinds/types.js';
import { ANALYSIS_TOOL } from '../steps/analyze.js';
import type { RunRecord } from '../run/types.js';
import { describeTrail, divergence, type TrailStep } from './path-trail.js';
import { pathName, type Decision } from './path-name.js';

/** A tool as the worst case sees it. */
function toolSchemaOf(tool: AnyTool | undefined): ToolSchema | undefined {
  return tool && { name: tool.name, description: tool.description, input_schema: toolInputSchema(tool), ...(tool.output ? { output_schema: toolOutputSchema(tool.output) } : {}) };
}

export type { Decision };

export interface PathResult {
  readonly steps: readonly string[];
  readonly decisions: readonly Decision[];
  readonly status: 'done' | 'failed' | 'budget_exhausted';
  readonly tokens: number;
  /** Every model step on the path at its projected cost, times its attempts. */
  readonly worstCaseTokens: number;
  readonly error: string | null;
  /** The steps the run visited, in order, each with how its visit ended (the run's `steps`). */
  readonly trail: readonly TrailStep[];
  /** Where the run left the path (a forced error that did not fail its step, another route), or null when it followed it. */
  readonly divergence: string | null;
}

/** The run of the input with no decision forced, up to its first wait (after which people decide, as the paths do). */
export interface UnforcedRun {
  readonly trail: readonly TrailStep[];
  readonly status: 'done' | 'failed' | 'budget_exhausted' | 'waiting';
  readonly tokens: number;
  readonly error: string | null;
}

export interface Finding {
  readonly kind: 'unreachable' | 'dead_end' | 'over_budget' | 'path_failed' | 'not_followed' | 'input_failed';
  readonly message: string;
}

export interface PathReport {
  readonly workflow: string;
  readonly budget: { readonly tokens: number; readonly limit: number };
  readonly reached: readonly string[];
  readonly paths: readonly PathResult[];
  readonly findings: readonly Finding[];
  /** The own paths of the child runs a step starts (a `map` body, a `workflow` step's definition), walked with the input a run of this one gave the first of them. */
  readonly children: readonly ChildReport[];
  /** The input's own run, nothing forced: its failure is reported when no path's run went its way. */
  readonly unforced: UnforcedRun;
}

/** The path report of the definition a step's child runs run. */
export interface ChildReport {
  readonly step: string;
  /** How many times the child's worst path counts in this step's worst case: a map's items × runs per item; 1 for a `workflow` step; 0 when its budget slice is counted instead. */
  readonly times: number;
  readonly report: PathReport;
}

/** A child run a path's run started: the first one of each step. */
interface ChildSample {
  readonly step: string;
  readonly record: RunRecord;
  /** Items of the map it is an item of (distinct indexes among the step's children). */
  readonly items: number;
}

type Ev = { type: string; at: number } & Record<string, unknown>;
const top = (snapshot: { value: unknown }) => (typeof snapshot.value === 'string' ? snapshot.value : Object.keys(snapshot.value as object)[0]!);

/** The events that can move a snapshot on, with guards' inputs set so every declared route is possible: each active step's kind says which. */
function eventsFor(workflow: Workflow, snapshot: AnyMachineSnapshot): Ev[] {
  const { steps } = activeSteps(snapshot);
  const phaseOf = (id: string) => steps.find((s) => s.id === id)?.phase ?? null;
  return steps.flatMap((step) => {
    const spec = stepOf(workflow, step.id);
    return spec ? (kindNamed(step.kind)?.pathEvents(step.id, spec, step.phase, phaseOf) ?? []).map((e) => ({ ...e }) as Ev) : [];
  });
}

function decisionOf(workflow: Workflow, step: string, event: Ev): Decision['take'] {
  if (event.type === 'step.done') return 'done';
  if (event.type === 'step.failed') return 'error';
  if (event.type === 'choice.take') return `branch ${String(event['index'])}`;
  if (event.type === 'parallel.collect') return `collect ${String(event['branch'])}`;
  if (event.type === 'parallel.fail') return `fail_fast ${String(event['branch'])}`;
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
    for (const step of activeSteps(state).steps) reached.add(step.id); // branch steps of a parallel step too
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
      const event = s.event as Ev;
      // The step the event names (a branch step of a parallel step), else the top-level step the run is at. A simple
      // path visits each step once: the top-level step first (a parallel step before its branch steps).
      const named = typeof event['step'] === 'string' ? event['step'] : undefined;
      const at = i === 0 ? startStep(workflow) : top(path.steps[i - 1]!.state as AnyMachineSnapshot);
      const step = named ?? at;
      for (const id of [at, step]) if (id !== DONE_STATE && !steps.includes(id)) steps.push(id);
      if (event.type === 'step.run' || event.type === 'step.proposed' || event.type === 'final.done' || event.type.startsWith('xstate.')) return;
      decisions.push({ step, take: decisionOf(workflow, step, event) });
    });
    const last = top(path.state as AnyMachineSnapshot);
    if (last !== DONE_STATE && !steps.includes(last)) steps.push(last);
    // One route per set of decisions: the engine runs branches side by side in its own order, so paths that differ
    // only in the order their branches end are one route.
    const key = JSON.stringify(decisions.map((d) => `${d.step}\u0000${d.take}`).sort());
    if (!routes.has(key)) routes.set(key, { steps, decisions });
  }
  return { machine, budget, reached, out, routes: [...routes.values()] };
}

/** The first event a waiting descendant of run `runId` accepts, or null. */
async function childEvent(store: Store, runId: string): Promise<string | null> {
  for (const child of await store.list({ parentId: runId, status: ['waiting'] })) {
    const own = toView(child).waitingFor?.events[0];
    if (own) return own;
    const deeper = await childEvent(store, child.id);
    if (deeper) return deeper;
  }
  return null;
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

/** The tool a model step makes the model fill (a `claude` step's `tool`, an `analyze` step's own), or undefined for a step that calls no model. */
function modelToolOf(workflow: Workflow, step: string): string | undefined {
  const spec = stepOf(workflow, step) as { claude?: { tool?: unknown }; analyze?: unknown } | undefined;
  if (typeof spec?.claude?.tool === 'string') return spec.claude.tool;
  return spec?.analyze !== undefined ? ANALYSIS_TOOL : undefined;
}

/**
 * A model client that answers 400 (a request error, not retried) to the calls
 * of a model step of `failing` while it is running: how a path forces a model
 * step's error route. A call is the step's when it asks for the step's tool
 * (`tool_choice`), so a sibling branch's call (another tool) goes through while
 * it runs; a failing step that calls no model (a tool step) refuses nothing.
 * `running` is of the path's run only (a child run's calls go through), and
 * every other call goes to `model` as usual.
 */
function faultingModel(model: ModelConfig, workflow: Workflow, failing: ReadonlySet<string>, running: () => readonly string[]): ModelConfig {
  const refuse: Middleware = async (request, next, ctx) => {
    const choice = (ctx.options?.body as { tool_choice?: { name?: unknown } } | undefined)?.tool_choice?.name;
    const step = running().find((id) => {
      const tool = failing.has(id) ? modelToolOf(workflow, id) : undefined;
      return tool !== undefined && (typeof choice !== 'string' || choice === tool);
    });
    if (step === undefined) return next(request);
    const body = { type: 'error', error: { type: 'invalid_request_error', message: `failure forced by the path test at "${step}"` } };
    return new Response(JSON.stringify(body), { status: 400, headers: { 'content-type': 'application/json' } });
  };
  return { ...model, client: model.client.withOptions({ middleware: [...model.client.middleware, refuse] }) };
}

/**
 * The run's tools, where a tool called by a step in `failing` of run `runId` throws a non-retryable error: how a
 * tool step's error route is forced. A child run's steps (a map item's, which share these tools) call them as usual.
 */
function faultingTools(tools: ReadonlyMap<string, AnyTool>, failing: ReadonlySet<string>, runId: string): Map<string, AnyTool> {
  const out = new Map<string, AnyTool>();
  for (const [name, tool] of tools) {
    out.set(name, {
      ...tool,
      run: (input: unknown, context: ToolContext) => {
        if (context.runId === runId && failing.has(context.stepId)) throw Object.assign(new Error(`failure forced by the path test at "${context.stepId}"`), { retryable: false });
        return tool.run(input, context);
      },
    });
  }
  return out;
}

/** Tokens the first attempt of a model step may use, by the step's `maxTokens` (as its kind bounds it). */
function firstMaxTokens(workflow: Workflow, step: string): number {
  const spec = stepOf(workflow, step);
  return (spec ? kindOf(spec)?.worstCase?.(spec, workflow, () => undefined)?.maxTokens : undefined) ?? workflow.maxTokens ?? DEFAULT_MAX_TOKENS;
}

const MAX_EVENTS = 1000;
/**
 * The id of the run a path drives (each path has a store of its own). Its child runs' ids are derived from it
 * (`path~step.visit`, a map item's `path~step.visit.index`), and the driver names a child run's actor by its id.
 */
const PATH_RUN = 'path';
/** Whether an inspected actor is a child run's (of any depth below the path's run), not the path's run's own. */
function childActor(actor: InspectionEvent['actorRef']): boolean {
  // The id the actor was created with (the inspection types leave it out): a child run's is its run id.
  const id = (actor as { id?: unknown }).id;
  return typeof id === 'string' && id.startsWith(`${PATH_RUN}~`);
}
/** How deep child runs' definitions are walked (a child of a child …): a definition that starts itself stops here. */
const MAX_DEPTH = 3;

/** What a path test needs: the run input, the tools, the model server, the definition file, and how deep it is in child walks. */
export interface PathDeps {
  readonly input: unknown;
  readonly tools: ReadonlyMap<string, AnyTool>;
  readonly model: ModelConfig;
  readonly source?: string;
  /** 0 for the definition under test, 1 for its children's, … */
  readonly depth?: number;
}

/**
 * Drives one path through the real engine (its driver, store, journal and
 * guards) on a memory store and a manual clock: the path's error routes fail
 * their step's effect (the tool throws, the model call is refused; a step
 * that starts child runs fails as it starts, starting none), its choices take
 * the path's branch, its waits get the path's event, or time out when the
 * clock is moved past their timeout. The decisions are the path's run's only:
 * the child runs it starts (a `workflow` step's, a map's items) decide as in a
 * real run, whatever their steps are called; their own paths are walked with
 * their definition (see {@link walkChild}). The run's trail is compared with
 * the path (./path-trail.ts). With `unforced`, nothing is forced (the route is
 * empty) and the run stops at its first own wait.
 */
async function runPath(
  workflow: Workflow,
  route: { steps: string[]; decisions: Decision[] },
  deps: PathDeps,
  unforced = false,
): Promise<{ result: PathResult; waiting: boolean; children: ChildSample[] }> {
  const take = new Map(route.decisions.map((d) => [d.step, d.take]));
  const failing = new Set(route.decisions.filter((d) => d.take === 'error').map((d) => d.step));
  const clock = new ManualClock({ autoAdvance: true });
  /** The steps in their `running` phase in the latest snapshot: of the run; none when the latest is a child run's (a call then is the child's). */
  let running: readonly string[] = [];
  let worst = 0;
  const inspect = (event: InspectionEvent) => {
    if (event.type !== '@xstate.snapshot') return;
    if (childActor(event.actorRef)) {
      running = [];
      return;
    }
    const snapshot = event.snapshot as unknown as { value: unknown; context: RunContext };
    running = activeSteps(event.snapshot as AnyMachineSnapshot).steps.filter((s) => s.phase === 'running').map((s) => s.id);
    // Every visit of a model step counts at its worst from its first attempt's projected cost, as `validate` bounds it.
    const sent = event.event;
    const projected = sent.type === 'step.run' && 'projectedTokens' in sent && typeof sent.projectedTokens === 'number' ? sent.projectedTokens : 0;
    if (projected <= 0) return;
    const step = Object.keys(snapshot.value as object)[0] ?? '';
    if (attemptsSinceResume(stepRunOf(snapshot.context, step)) > 1) return;
    const spec = stepOf(workflow, step) as { retry?: Workflow['retry'] } | undefined;
    // Only this workflow's model steps: a child-run step projects its budget slice.
    if (!spec || !kindOf(spec)?.worstCase) return;
    const maxTokens = firstMaxTokens(workflow, step);
    // A bound that covers its own attempts (a workflow step's slice) counts once.
    const attempts = kindOf(spec)?.worstCase?.(spec, workflow, () => undefined)?.attempts ?? resolveRetry(spec.retry, workflow.retry).maxAttempts;
    worst += visitWorstCase(projected - maxTokens, maxTokens, attempts);
  };
  const engine = createEngine({
    store: createMemoryStore(),
    clock,
    model: faultingModel(deps.model, workflow, failing, () => running),
    inspect,
    forceFailure: (step, runId) => runId === PATH_RUN && failing.has(step),
    chooseBranch: (step, runId) => {
      if (runId !== PATH_RUN) return undefined;
      const decision = take.get(step);
      return decision?.startsWith('branch ') ? Number(decision.slice('branch '.length)) : undefined;
    },
  });
  // The definition file, when there is one: a `workflow` step's `file` is relative to it.
  let view = await engine.start({ workflow, tools: faultingTools(deps.tools, failing, PATH_RUN), ...(deps.source ? { source: deps.source } : {}) }, { input: deps.input, runId: PATH_RUN });
  for (let i = 0; view.status === 'waiting' && i < MAX_EVENTS; i++) {
    if (!view.waitingFor || !kindOf(stepOf(workflow, view.waitingFor.step) ?? {})?.accepts) {
      // A child run waits (a `workflow` or `map` step): its own paths are its definition's; send it the first event it accepts.
      const event = await childEvent(engine.store, view.runId);
      if (!event) break;
      view = await engine.send(view.runId, event, { by: 'stepwise test' });
      continue;
    }
    // The input's own run: from its first wait on, people decide (the paths walk their events).
    if (unforced) break;
    const { step, events, timeoutAt } = view.waitingFor;
    const decision = take.get(step) ?? 'wait.timeout';
    if (events.includes(decision)) {
      view = await engine.send(view.runId, decision, { by: 'stepwise test' });
    } else if (decision === 'wait.timeout' && timeoutAt !== null) {
      clock.advance(Math.max(0, timeoutAt - clock.now()));
      view = await engine.resume(view.runId);
    } else if ((decision === 'done' || decision === 'error') && events[0] !== undefined) {
      // A work step waiting in a phase of its own (a review) on a path that goes on through the step: its first event (APPROVE).
      view = await engine.send(view.runId, events[0], undefined, { by: 'stepwise test' });
    } else break;
  }
  const status = view.status === 'done' ? 'done' : view.status === 'budget_exhausted' ? 'budget_exhausted' : 'failed';
  const trail = view.steps.map((e) => ({ step: e.id, status: e.status }));
  const result: PathResult = {
    steps: route.steps,
    decisions: route.decisions,
    status,
    tokens: view.usage.totalTokens,
    worstCaseTokens: worst,
    error: status === 'done' ? null : (view.failure?.message ?? `the run stopped ${view.status}${view.waitingFor ? ` at "${view.waitingFor.step}"` : ''}`),
    trail,
    divergence: unforced ? null : divergence(workflow, route, trail, view.status === 'done'),
  };
  return { result, waiting: view.status === 'waiting', children: childSamples(await engine.store.list({ parentId: view.runId })) };
}

/** The first child run of each step (the first item of a map, first round and attempt), and how many items the step had. */
function childSamples(children: readonly RunRecord[]): ChildSample[] {
  const byStep = new Map<string, RunRecord[]>();
  for (const child of children) {
    const step = child.options.parent?.step;
    if (step !== undefined) byStep.set(step, [...(byStep.get(step) ?? []), child]);
  }
  return [...byStep].map(([step, runs]) => {
    const order = (r: RunRecord) => [r.options.parent?.visit ?? 0, r.options.parent?.index ?? 0, r.options.parent?.round ?? 0, r.options.parent?.attempt ?? 0];
    const earlier = (a: RunRecord, b: RunRecord) => {
      const [x, y] = [order(a), order(b)];
      const at = x.findIndex((v, i) => v !== y[i]);
      return at === -1 ? 0 : x[at]! - y[at]!;
    };
    const first = [...runs].sort(earlier)[0]!;
    return { step, record: first, items: new Set(runs.map((r) => r.options.parent?.index ?? 0)).size };
  });
}

/** How many times a child's worst path counts in step `id`'s worst case (see {@link ChildReport.times}). */
function childTimes(workflow: Workflow, id: string, sample: ChildSample, toolOf: (name: string) => ToolSchema | undefined): number {
  const spec = stepOf(workflow, id) as Record<string, unknown> | undefined;
  if (!spec) return 0;
  if ('map' in spec) {
    const map = spec as unknown as MapSpec;
    const declared = itemsSchema(map, { workflow, toolOf })?.['maxItems'];
    const items = map.map.maxItems ?? (typeof declared === 'number' ? declared : sample.items);
    return items * (map.map.retry?.maxAttempts ?? 1);
  }
  // A `workflow` step with a budget slice already counts the slice (its projected tokens).
  const slice = (spec['workflow'] as { budget?: unknown } | undefined)?.budget;
  return slice === undefined ? 1 : 0;
}

/** Walks the definition of a child run with the input it was given (its tools: its own file's, else the parent's). */
async function walkChild(sample: ChildSample, deps: PathDeps, depth: number): Promise<PathReport> {
  const { definition, input } = sample.record;
  const source = definition.source ?? undefined;
  const own = source !== undefined && source !== deps.source ? await loadDefinition(source) : undefined;
  return testPaths(definition.workflow, {
    ...deps,
    input,
    tools: own ? own.tools : deps.tools,
    ...(source !== undefined ? { source } : {}),
    depth: depth + 1,
  });
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
export async function testPaths(workflow: Workflow, deps: PathDeps): Promise<PathReport> {
  const { budget, reached, out, routes } = enumeratePaths(workflow, deps.input);
  const findings: Finding[] = [];
  const ids = stepIds(workflow);
  for (const id of ids) if (!reached.has(id)) findings.push({ kind: 'unreachable', message: `step "${id}" cannot be reached from the start` });

  const finals = ids.filter((id) => kindOf(stepOf(workflow, id)!)?.ends === true);
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
  // Branch steps end their branch, not the run: the top-level steps are the ones that must reach a final step.
  for (const id of Object.keys(workflow.steps)) {
    if (reached.has(id) && !finishing.has(id)) findings.push({ kind: 'dead_end', message: `step "${id}" is a dead end: no final step can be reached from it` });
  }

  const limit = Math.floor(budget.tokens * budget.stopAt);
  const ran: PathResult[] = [];
  const samples = new Map<string, ChildSample>();
  for (const route of routes) {
    const { result, children } = await runPath(workflow, route, deps);
    ran.push(result);
    for (const sample of children) if (!samples.has(sample.step)) samples.set(sample.step, sample);
  }
  const unforced = await runUnforced(workflow, deps);
  // The child runs' own paths, each walked once; a path through the step counts the child's worst path `times` times.
  const depth = deps.depth ?? 0;
  const children: ChildReport[] = [];
  if (depth < MAX_DEPTH) {
    const toolOf = (name: string) => toolSchemaOf(deps.tools.get(name));
    for (const [step, sample] of samples) {
      const report = await walkChild(sample, deps, depth);
      children.push({ step, times: childTimes(workflow, step, sample, toolOf), report });
      for (const f of report.findings) findings.push({ kind: f.kind, message: `in the child runs of "${step}" (${report.workflow}): ${f.message}` });
    }
  }
  const paths = ran.map((result) => {
    const extra = children.filter((c) => result.steps.includes(c.step)).reduce((sum, c) => sum + c.times * Math.max(0, ...c.report.paths.map((p) => p.worstCaseTokens)), 0);
    return extra === 0 ? result : { ...result, worstCaseTokens: result.worstCaseTokens + extra };
  });
  for (const result of paths) {
    const name = pathName(result);
    if (result.status === 'budget_exhausted' || result.worstCaseTokens > limit) {
      findings.push({
        kind: 'over_budget',
        message: `path ${name} can exceed the budget: worst case ${result.worstCaseTokens} tokens (used ${result.tokens}) against ${limit} (${budget.tokens} × stopAt ${budget.stopAt})`,
      });
    } else if (result.status === 'failed') {
      findings.push({ kind: 'path_failed', message: `path ${name} failed: ${result.error ?? 'unknown error'}` });
    }
    if (result.divergence !== null) findings.push({ kind: 'not_followed', message: `path ${name} was not followed: ${result.divergence}` });
  }
  // A failure of the input's own run that no path's run shared: a route no simple path takes (a loop its limit stops).
  const same = (trail: readonly TrailStep[]) => JSON.stringify(trail) === JSON.stringify(unforced.trail);
  if ((unforced.status === 'failed' || unforced.status === 'budget_exhausted') && !paths.some((p) => same(p.trail))) {
    const what = unforced.status === 'failed' ? 'failed' : 'ran out of budget';
    findings.push({
      kind: 'input_failed',
      message: `the input's own run (no decision forced) ${what} on a route no path takes: ${describeTrail(workflow, unforced.trail)}: ${unforced.error ?? 'unknown error'}`,
    });
  }
  return { workflow: workflow.id, budget: { tokens: budget.tokens, limit }, reached: [...reached].filter((id) => ids.includes(id)), paths, findings, children, unforced };
}

/**
 * The input's own run: nothing forced (its choices take the branch their conditions pick, its steps succeed or
 * fail as they do), up to its first wait. Simple paths never go round a loop; this run does, as a real one would.
 */
async function runUnforced(workflow: Workflow, deps: PathDeps): Promise<UnforcedRun> {
  const { result, waiting } = await runPath(workflow, { steps: [], decisions: [] }, deps, true);
  return { trail: result.trail, status: waiting ? 'waiting' : result.status, tokens: result.tokens, error: waiting ? null : result.error };
}
