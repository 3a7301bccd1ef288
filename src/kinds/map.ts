/**
 * `map`: runs a sub-sequence of steps (the body) for each item of an array,
 * each item as a child run of an inline definition made from the body (so
 * every guarantee of a run holds per item: retries, backoff, breakers, loop
 * limits, journal, kill -9 safety). At most `maxConcurrency` items run at
 * once; the first item runs alone until it has made its first model call
 * (it warms the shared prompt prefix) when the body calls the model. Outputs
 * are collected in input order; failed items are recorded with their errors
 * and the step fails when they are more than `toleratedFailures` (a count or
 * a percentage, as Step Functions' ToleratedFailureCount/Percentage).
 * `engine.redrive(runId)` starts the failed items of a failed map again.
 *
 * The kind is made by {@link makeMapKind} with the registry's step schema and
 * kind lookup, so it does not import the registry (which registers it).
 */
import { z } from 'zod';
import { stepRunOf } from '../compile/context.js';
import { maxVisits, Mapping, StepId } from '../definition/fields.js';
import type { Workflow } from '../definition/schema.js';
import { compileMapping, evaluateMapping } from '../expr/index.js';
import { childBudget } from '../engine/child-budget.js';
import { interruptedDrive, restingUntil, waitingChild } from '../engine/child-step.js';
import { childIdOf } from '../engine/child-ids.js';
import { crashPoint } from '../engine/crash-points.js';
import { itemRuns, itemState, itemsUsage, nextAttempt, tooManyFailures, type ItemState } from '../engine/map-items.js';
import type { RunScope } from '../engine/scope.js';
import type { RunRecord } from '../run/types.js';
import { zeroUsage } from '../run/types.js';
import { scopeOf } from '../steps/types.js';
import { resolveRetry } from '../policy/backoff.js';
import { childState } from './child-state.js';
import type { AnyStepKind } from './index.js';
import { defineStepKind, type Advance, type KindFinding, type StepKindDefinition } from './types.js';
import { workEdges, workPathEvents } from './work.js';

/** The default number of items that run at once. */
export const DEFAULT_MAX_CONCURRENCY = 4;

const Tolerated = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+(\.\d+)?%$/, 'a count, or a percentage such as "10%"')]);

/** The schema of a map step; `anyStep` is the schema of a body step (any registered kind). */
export function mapStepSchema(anyStep: () => z.ZodType) {
  return z.strictObject({
    description: z.string().optional(),
    next: StepId.optional().describe('Step to go to after this one'),
    onError: StepId.optional().describe('Step to go to when the map fails (more items failed than tolerated)'),
    maxVisits,
    map: z.strictObject({
      items: Mapping.describe('An expression yielding the array to map over, e.g. "{% $input.lines %}"'),
      as: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional().describe('The name of the item in the body\'s $input (default item)'),
      context: z.record(z.string(), Mapping).optional().describe('Values of this run every item\'s $input carries beside the item and its index'),
      steps: z.record(StepId, z.lazy(anyStep)).refine((s) => Object.keys(s).length > 0, 'at least one step').describe('The body: steps run for each item, any kinds'),
      start: StepId.optional().describe('First body step (default: the first one listed)'),
      maxConcurrency: z.number().int().positive().optional().describe(`Items that run at once (default ${DEFAULT_MAX_CONCURRENCY})`),
      retry: z.strictObject({ maxAttempts: z.number().int().min(1) }).optional().describe('Runs an item may take: a failed item is run again (a new child run) up to this many times'),
      toleratedFailures: Tolerated.optional().describe('Failed items the map tolerates: a count or a percentage of the items ("10%"); default 0'),
      maxItems: z.number().int().positive().optional().describe('The most items the map accepts (the worst-case bound uses it); more fail the step'),
    }),
  });
}

export type MapSpec = z.infer<ReturnType<typeof mapStepSchema>>;

/** The id of the step added to a body without a final step: it ends the item with the output of the body's last step. */
const ITEM_DONE = 'item_done';

/** The inline definition of a map body: the body's steps (ended by a final step if they have none), the parent's model, retry and limits. */
export function bodyWorkflow(parent: Workflow, id: string, spec: MapSpec, isFinal: (step: object) => boolean): Workflow {
  const steps: Record<string, Workflow['steps'][string]> = { ...(spec.map.steps as Workflow['steps']) };
  const ids = Object.keys(steps);
  if (!ids.some((s) => isFinal(steps[s]!))) {
    let done = ITEM_DONE;
    while (steps[done]) done = `${done}_`;
    steps[done] = { final: true, output: `{% $steps.${ids[ids.length - 1]}.output %}` };
  }
  return {
    id: `${parent.id}.${id}`,
    ...(parent.model !== undefined ? { model: parent.model } : {}),
    ...(parent.maxTokens !== undefined ? { maxTokens: parent.maxTokens } : {}),
    ...(parent.retry !== undefined ? { retry: parent.retry } : {}),
    ...(parent.limits !== undefined ? { limits: parent.limits } : {}),
    ...(parent.breaker !== undefined ? { breaker: parent.breaker } : {}),
    ...(spec.map.start !== undefined ? { start: spec.map.start } : {}),
    steps,
  };
}

const moved: Advance = { kind: 'moved' };
const failedEvent = (id: string, at: number, message: string, kind: 'invalid_data' | 'engine_error' = 'invalid_data') =>
  ({ type: 'step.failed', step: id, at, usage: zeroUsage, error: { kind, message }, retryable: false, retryAt: null }) as const;

/** The items of a map step, evaluated against the run now. */
async function itemsOf(run: RunScope, spec: MapSpec): Promise<{ items: unknown[]; context: Record<string, unknown> }> {
  const scope = scopeOf({ runId: run.runId, context: run.context() });
  const items = await evaluateMapping(compileMapping(spec.map.items), scope);
  if (!Array.isArray(items)) throw new Error(`map.items must yield an array, not ${items === null ? 'null' : typeof items}`);
  if (spec.map.maxItems !== undefined && items.length > spec.map.maxItems) throw new Error(`map.items yielded ${items.length} items, more than maxItems ${spec.map.maxItems}`);
  const context = spec.map.context === undefined ? {} : ((await evaluateMapping(compileMapping(spec.map.context), scope)) as Record<string, unknown>);
  return { items, context };
}

async function start(run: RunScope, id: string, spec: MapSpec): Promise<Advance> {
  const now = run.clock.now();
  let count: number;
  try {
    if (!run.children) throw new Error('this engine runs no child runs');
    count = (await itemsOf(run, spec)).items.length;
  } catch (error) {
    run.send({ type: 'step.run', step: id, at: now, projectedTokens: 0, projectedUsd: 0 });
    const message = `map "${id}": ${(error as Error).message}`;
    run.note({ ...run.where(id), event: 'failed', error: { kind: 'invalid_data', message } });
    run.send(failedEvent(id, now, message));
    return moved;
  }
  run.send({ type: 'step.run', step: id, at: now, projectedTokens: 0, projectedUsd: 0 });
  const failure = run.context().failure;
  if (run.phaseOf(id) !== 'running') {
    run.note({ ...run.where(id), event: run.phaseOf(id) === 'budget_exhausted' ? 'budget_exhausted' : 'loop_detected', ...(failure ? { error: { kind: failure.kind, message: failure.message } } : {}) });
  } else {
    run.note({ ...run.where(id), event: 'started', data: { items: count } });
  }
  await run.commit();
  if (run.phaseOf(id) === 'running') crashPoint('step-started');
  return moved;
}

/** Runs the items: starts and drives up to `maxConcurrency` at once until each is done, failed for good, or rests. */
async function runItems(run: RunScope, id: string, spec: MapSpec, callsModel: boolean, isFinal: (step: object) => boolean): Promise<void> {
  const children = run.children!;
  const at = run.clock.now();
  let prepared;
  try {
    prepared = await itemsOf(run, spec);
  } catch (error) {
    const message = `map "${id}": ${(error as Error).message}`;
    run.note({ ...run.where(id), event: 'failed', error: { kind: 'invalid_data', message } });
    run.send(failedEvent(id, at, message));
    return;
  }
  const { items, context } = prepared;
  const visit = run.context().visits[id] ?? 1;
  const resumed = stepRunOf(run.context(), id).attempt === 0;
  const source = await children.inline(run, bodyWorkflow(run.workflow, id, spec, isFinal));
  const as = spec.map.as ?? 'item';
  const maxAttempts = spec.map.retry?.maxAttempts ?? 1;
  const byIndex = itemRuns(await children.list(run.runId), id, visit);
  const record = (child: RunRecord) => byIndex.set(child.options.parent!.index!, [...(byIndex.get(child.options.parent!.index!) ?? []).filter((r) => r.id !== child.id), child]);
  const stateOf = (index: number): ItemState => itemState(byIndex.get(index) ?? [], maxAttempts);

  // The first item runs alone until it has made its first model call (it warms the shared prompt prefix), or ended.
  let warmed = !callsModel || [...byIndex.values()].some((runs) => runs.some((r) => r.usage.totalTokens > 0 || r.status !== 'running'));
  let kick: () => void = () => {};
  let kicked = new Promise<void>((resolve) => (kick = resolve));
  const inflight = new Map<number, Promise<void>>();
  /** Items driven in this effect that came to rest (waiting, a timer, out of budget): not driven again in it. */
  const rested = new Set<number>();

  const runnable = (index: number): boolean => {
    if (inflight.has(index) || rested.has(index)) return false;
    const state = stateOf(index);
    if (state.kind === 'new' || state.kind === 'retry' || state.kind === 'live') return true;
    return state.kind === 'exhausted' && resumed && children.resumable(state.run);
  };

  const drive = async (index: number) => {
    const state = stateOf(index);
    let child: RunRecord;
    let resume = false;
    if (state.kind === 'new' || state.kind === 'retry') {
      const { round, attempt } = nextAttempt(state);
      child = await children.create(run, {
        id: childIdOf(run.runId, id, visit, { index, round, attempt }),
        parent: { runId: run.runId, step: id, visit, index, round, attempt },
        source,
        input: { ...context, [as]: items[index], index },
        budget: childBudget(run.context(), undefined, undefined, itemsUsage(byIndex)),
      });
      record(child);
    } else {
      child = (state as Extract<ItemState, { run: RunRecord }>).run;
      resume = state.kind === 'exhausted';
    }
    const budget = childBudget(run.context(), undefined, undefined, itemsUsage(byIndex));
    const driven = await children.drive(run, child, {
      ...(resume ? { event: { event: { type: 'run.resume', at: run.clock.now(), budget }, journal: [{ step: null, visit: 0, attempt: 0, event: 'resumed', at: run.clock.now(), data: { budget, parent: run.runId } }] } } : {}),
      onCommit: (committed) => {
        if (!warmed && committed.usage.totalTokens > 0) {
          warmed = true;
          kick();
        }
      },
    });
    record(driven);
    if (!warmed && driven.status !== 'running') {
      warmed = true;
      kick();
    }
    if (driven.status === 'running' || driven.status === 'waiting' || driven.status === 'budget_exhausted') rested.add(index);
  };

  for (;;) {
    if (interruptedDrive(run)) break;
    const limit = warmed ? (spec.map.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY) : 1;
    for (let index = 0; index < items.length && inflight.size < limit; index++) {
      if (!runnable(index)) continue;
      const job = drive(index).finally(() => inflight.delete(index));
      job.catch(() => undefined);
      inflight.set(index, job);
    }
    if (inflight.size === 0) break;
    await Promise.race([...inflight.values(), kicked]);
    kicked = new Promise<void>((resolve) => (kick = resolve));
  }
  const results = await Promise.allSettled(inflight.values());
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  if (interruptedDrive(run)) return;

  run.countExecuted();
  const now = run.clock.now();
  const usage = itemsUsage(byIndex);
  const states = items.map((_, index) => stateOf(index));
  const pending = states.filter((s) => s.kind === 'live' || s.kind === 'new' || s.kind === 'retry');
  if (pending.length > 0) {
    const live = pending.flatMap((s) => (s.kind === 'live' ? [s.run] : []));
    const timers = live.map((r) => r.wakeAt).filter((w): w is number => w !== null);
    const waiting = live.length > 0 && live.every((r) => r.status === 'waiting');
    run.send({ type: 'child.rest', step: id, at: now, waiting, wakeAt: timers.length ? Math.min(...timers) : null, usage });
    return;
  }
  const failed = states.flatMap((s, index) => (s.kind === 'failed' || s.kind === 'exhausted' ? [{ index, state: s }] : []));
  const failures = failed.map(({ index, state }) => ({ index, child: state.run.id, status: state.run.status, error: state.run.failure }));
  /** The child run that settled each item, in input order: the parent's link to its items. */
  const childIds = states.map((s) => (s.kind === 'new' ? null : s.run.id));
  const exhausted = failed.filter((f) => f.state.kind === 'exhausted');
  if (exhausted.length > 0) {
    const message = `map "${id}": ${exhausted.length} item(s) ran out of budget (item ${exhausted[0]!.index}: ${exhausted[0]!.state.run.failure?.message ?? 'budget'})`;
    run.send({ type: 'step.failed', step: id, at: now, usage, error: { kind: 'budget', message }, retryable: false, retryAt: null });
    run.note({ ...run.where(id), at: now, event: 'budget_exhausted', usage, error: { kind: 'budget', message }, data: { failures, children: childIds } });
    return;
  }
  if (tooManyFailures(failed.length, items.length, spec.map.toleratedFailures)) {
    const first = failed[0]!.state.run;
    const message = `map "${id}": ${failed.length} of ${items.length} items failed (tolerated: ${spec.map.toleratedFailures ?? 0}); item ${failed[0]!.index}: ${first.failure?.message ?? first.status}`;
    const kind = first.failure?.kind ?? 'tool_error';
    run.send({ type: 'step.failed', step: id, at: now, usage, error: { kind, message }, retryable: false, retryAt: null });
    run.note({ ...run.where(id), at: now, event: 'failed', usage, error: { kind, message }, data: { failures, children: childIds } });
    return;
  }
  const output = states.map((s) => (s.kind === 'done' ? (s.run.output ?? null) : null));
  run.send({ type: 'step.done', step: id, at: now, output, usage });
  run.note({ ...run.where(id), at: now, event: 'completed', output, usage, data: { items: items.length, failures, children: childIds } });
}

/** The `maxItems` the input schema gives the array `items` reads, when `items` is `{% $input.<field> %}`. */
function inputMaxItems(workflow: Workflow, items: unknown): number | undefined {
  const field = typeof items === 'string' ? /^\{%\s*\$input\.([A-Za-z_][A-Za-z0-9_]*)\s*%\}$/.exec(items)?.[1] : undefined;
  const properties = (workflow.input as { properties?: Record<string, { maxItems?: unknown }> } | undefined)?.properties;
  const max = field ? properties?.[field]?.maxItems : undefined;
  return typeof max === 'number' ? max : undefined;
}

/** Makes the `map` kind from the registry's step schema and kind lookup. */
export function makeMapKind(registry: { anyStep: () => z.ZodType; kindOf: (step: object) => AnyStepKind | undefined }): StepKindDefinition<MapSpec> {
  const bodyKinds = (spec: MapSpec) => Object.entries(spec.map.steps).map(([sid, s]) => [sid, s as object, registry.kindOf(s as object)] as const);
  const isFinal = (step: object) => registry.kindOf(step)?.ends === true;
  return defineStepKind<MapSpec>({
    name: 'map',
    schema: mapStepSchema(registry.anyStep),
    flows: true,
    entered: 'running',
    state: (id, step, scope) => childState(id, step, scope, 'map'),
    edges: (_id, step, next) => workEdges(step, next),
    check: (_id, spec) => {
      const errors: KindFinding[] = [];
      const ids = new Set(Object.keys(spec.map.steps));
      if (spec.map.start !== undefined && !ids.has(spec.map.start)) errors.push({ path: ['map', 'start'], message: `no body step "${spec.map.start}"; body steps are ${[...ids].join(', ')}` });
      const list = [...ids];
      for (const [sid, body, kind] of bodyKinds(spec)) {
        if (!kind) continue;
        const next = kind.flows ? list[list.indexOf(sid) + 1] : undefined;
        for (const edge of kind.edges(sid, body, next)) {
          if (!ids.has(edge.to)) errors.push({ path: ['map', 'steps', sid, ...edge.path], message: `"${edge.to}" is not a step of the map body; body steps are ${list.join(', ')}` });
        }
      }
      return { errors, warnings: [] };
    },
    expressions: (spec) => [
      [spec.map.items, ['map', 'items']],
      [spec.map.context, ['map', 'context']],
    ],
    tools: (spec) => bodyKinds(spec).flatMap(([sid, body, kind]) => (kind?.tools?.(body) ?? []).map((t) => ({ name: t.name, path: ['map', 'steps', sid, ...t.path] }))),
    worstCase: (spec, workflow, toolOf) => {
      // Each item's body at its worst (every model step once, each with all its attempts, as validate bounds a step),
      // times the item's runs, times the items: maxItems, else the input schema's maxItems for `$input.<field>`, else 1.
      const body = bodyWorkflow(workflow, 'map', spec, isFinal);
      let perItem = 0;
      for (const step of Object.values(body.steps)) {
        const bound = registry.kindOf(step)?.worstCase?.(step, body, toolOf);
        if (!bound) continue;
        const attempts = bound.attempts ?? resolveRetry((step as { retry?: Workflow['retry'] }).retry, body.retry).maxAttempts;
        perItem += attempts * bound.inputTokens + bound.maxTokens + (attempts - 1) * 2 * bound.maxTokens;
      }
      if (perItem === 0) return null;
      const items = spec.map.maxItems ?? inputMaxItems(workflow, spec.map.items) ?? 1;
      return { inputTokens: perItem * items * (spec.map.retry?.maxAttempts ?? 1), maxTokens: 0, attempts: 1 };
    },
    wakeAt: (id, _step, phase, context) => (phase === 'running' || phase === 'waiting' ? stepRunOf(context, id).retryAt : null),
    label: (spec) => `map over items (${spec.map.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY} at once)`,
    pathEvents: (id, _step, phase) => workPathEvents(id, phase),
    handler: {
      async advance(run, { id, phase }, spec) {
        switch (phase) {
          case 'ready':
            return start(run, id, spec);
          case 'running': {
            const resting = restingUntil(run, id);
            if (resting) return resting;
            if (run.mode === 'step' && run.executed() > 0) return { kind: 'stop' };
            const callsModel = bodyKinds(spec).some(([, , kind]) => kind?.worstCase !== undefined);
            return { kind: 'effect', run: () => runItems(run, id, spec, callsModel, isFinal) };
          }
          case 'waiting':
            return waitingChild(run, id, { map: id });
          default:
            return { kind: 'rest' };
        }
      },
    },
  });
}
