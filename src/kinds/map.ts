/**
 * `map`: runs a sub-sequence of steps (the body) for each item of an array,
 * each item as a child run of an inline definition made from the body (so
 * every guarantee of a run holds per item: retries, backoff, breakers, loop
 * limits, journal, kill -9 safety). At most `maxConcurrency` items run at
 * once; the first item runs alone until it has made its first model call
 * (it warms the shared prompt prefix) when the body calls the model, itself
 * or through the child definitions it starts (see map-warm-up.ts). Outputs
 * are collected in input order; failed items are recorded with their errors
 * and the step fails when they are more than `toleratedFailures` (a count or
 * a percentage, as Step Functions' ToleratedFailureCount/Percentage).
 * `engine.redrive(runId)` starts the failed items of a failed map again.
 * Items that would nest deeper than `limits.maxDepth` are not started: the
 * step fails with kind `loop`.
 *
 * The kind is made by {@link makeMapKind} with the registry's step schema and
 * kind lookup, so it does not import the registry (which registers it).
 */
import type { z } from 'zod';
import type { ChildRefSpec } from '../definition/nested-steps.js';
import type { Workflow } from '../definition/schema.js';
import { childTimersDue, forcedFailure, restingUntil, waitingChild } from '../engine/child-step.js';
import { crashPoint } from '../engine/crash-points.js';
import { depthRefusal, nestingIn } from '../engine/child-depth.js';
import { failedEvent, itemsOf, runItems } from '../engine/map-run.js';
import { refusedStart } from '../engine/work-handler.js';
import type { RunScope } from '../engine/scope.js';
import { resolveRetry } from '../policy/backoff.js';
import { visitWorstCase } from '../policy/visit-bound.js';
import { childState, childWakeAt } from './child-state.js';
import type { AnyStepKind } from './index.js';
import { bodyWorkflow, DEFAULT_MAX_CONCURRENCY, mapStepSchema, type MapSpec } from './map-body.js';
import { bodyInputSchema, itemsSchema } from './map-input.js';
import { callsModel } from './map-warm-up.js';
import { defineStepKind, type Advance, type StepKindDefinition } from './types.js';
import { workEdges, workPathEvents } from './work.js';

export { bodyWorkflow, DEFAULT_MAX_CONCURRENCY, mapStepSchema, type MapSpec } from './map-body.js';

const moved: Advance = { kind: 'moved' };
/** A step that would start or drive its items, in a drive that fires only what is due: it stays where it is. */
const startsNothing: Advance = { kind: 'rest' };

async function start(run: RunScope, id: string, spec: MapSpec): Promise<Advance> {
  const now = run.clock.now();
  // A path test takes the step's error route: it fails as it starts, no item started.
  const forced = forcedFailure(run, id);
  if (forced !== null) {
    run.send({ type: 'step.run', step: id, at: now, projectedTokens: 0, projectedUsd: 0 });
    if (run.phaseOf(id) !== 'running') return refusedStart(run, id);
    run.note({ ...run.where(id), event: 'failed', error: { kind: 'tool_error', message: forced } });
    run.send(failedEvent(id, now, forced, 'tool_error'));
    return moved;
  }
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
  // Its items would nest deeper than the limit: the step fails as a loop and starts none (a map with no items starts no child).
  const tooDeep = count > 0 ? depthRefusal(nestingIn(run), id) : null;
  if (tooDeep !== null && run.phaseOf(id) === 'running') {
    const message = `map "${id}": ${tooDeep}`;
    run.note({ ...run.where(id), event: 'failed', error: { kind: 'loop', message } });
    run.send(failedEvent(id, now, message, 'loop'));
    return moved;
  }
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

/** Makes the `map` kind from the registry's step schema and kind lookup. */
export function makeMapKind(registry: { anyStep: () => z.ZodType; kindOf: (step: object) => AnyStepKind | undefined }): StepKindDefinition<MapSpec> {
  const isFinal = (step: object) => registry.kindOf(step)?.ends === true;
  return defineStepKind<MapSpec>({
    name: 'map',
    schema: mapStepSchema(registry.anyStep),
    flows: true,
    entered: 'running',
    state: (id, step, scope) => childState(id, step, scope, 'map'),
    edges: (_id, step, next) => workEdges(step, next),
    // The body is checked as the definition its items run (src/definition/scopes.ts): routes, expressions, tools, reach.
    inline: (id, spec, workflow) => {
      const body = bodyWorkflow(workflow, id, spec, isFinal);
      return { workflow: body, path: ['map'], added: Object.keys(body.steps).filter((sid) => !Object.hasOwn(spec.map.steps, sid)) };
    },
    expressions: (spec) => [
      [spec.map.items, ['map', 'items']],
      [spec.map.context, ['map', 'context']],
    ],
    worstCase: (spec, workflow, toolOf) => {
      // Each item's body at its worst (every model step once, each with all its attempts, as validate bounds a step),
      // its `$input` sized from the item schema of the array `items` reads and from what `context` reads,
      // times the item's runs, times the items: maxItems, else the `maxItems` of the array `items` reads, else
      // unknown (counted as 1 and named as unbounded).
      const sources = { workflow, toolOf };
      const body = { ...bodyWorkflow(workflow, 'map', spec, isFinal), input: bodyInputSchema(spec, sources) };
      let perItem = 0;
      const unbounded: string[] = [];
      for (const [sid, step] of Object.entries(body.steps)) {
        const bound = registry.kindOf(step)?.worstCase?.(step, body, toolOf);
        if (!bound) continue;
        const attempts = bound.attempts ?? resolveRetry((step as { retry?: Workflow['retry'] }).retry, body.retry).maxAttempts;
        perItem += visitWorstCase(bound.inputTokens, bound.maxTokens, attempts, bound.feedbackTokens ?? 0, bound.cacheWriteTokens ?? 0);
        unbounded.push(...(bound.unbounded ?? []).map((field) => `${sid}: ${field}`));
      }
      if (perItem === 0 && unbounded.length === 0) return null;
      const declared = itemsSchema(spec, sources)?.['maxItems'];
      const items = spec.map.maxItems ?? (typeof declared === 'number' ? declared : undefined);
      if (items === undefined) unbounded.push(`map.items (no maxItems on the step or on the array it reads: counted as one item)`);
      return { inputTokens: perItem * (items ?? 1) * (spec.map.retry?.maxAttempts ?? 1), maxTokens: 0, attempts: 1, unbounded };
    },
    wakeAt: childWakeAt,
    label: (spec) => `map over items (${spec.map.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY} at once)`,
    pathEvents: (id, _step, phase) => workPathEvents(id, phase),
    handler: {
      async advance(run, { id, phase }, spec) {
        switch (phase) {
          case 'ready':
            return run.mode === 'due' ? startsNothing : start(run, id, spec);
          case 'running': {
            const resting = restingUntil(run, id);
            if (resting) return resting;
            if (run.mode === 'step' && run.executed() > 0) return { kind: 'stop' };
            if (run.mode === 'due' && !(await childTimersDue(run, id))) return startsNothing;
            // Child definitions deeper than an item's children may nest are never started.
            const nesting = nestingIn(run);
            const levels = nesting.maxDepth - nesting.depth - 1;
            const lookups = { kindOf: registry.kindOf, resolve: (ref: ChildRefSpec, from: string | null) => run.children!.resolve(run, ref, from) };
            const bodyCallsModel = () => callsModel(spec.map.steps as Workflow['steps'], run.record().definition.source, levels, lookups);
            return { kind: 'effect', run: () => runItems(run, id, spec, bodyCallsModel, isFinal) };
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

