/**
 * Replay: a run's machine driven again through the events its journal
 * recorded, up to the moment it first entered a chosen step. What the driver
 * once sent (`step.run`, `step.done` with the recorded output and usage,
 * `step.failed`, `step.retry`, `choice.take` with the recorded branch, the
 * recorded wait event or timeout, `run.resume`) is sent again to a fresh actor,
 * so the snapshot is the machine's own, never one built by hand. `rerun --from`
 * starts its new run from it.
 */
import { createActor, transition, type Actor } from 'xstate';
import type { RunContext } from '../compile/context.js';
import { isWaitEventType, type RunEvent } from '../compile/events.js';
import type { WorkflowMachine } from '../compile/machine.js';
import type { Workflow } from '../definition/schema.js';
import { RunNotFoundError, StepwiseError } from '../errors.js';
import type { ResolvedBudget } from '../policy/budget.js';
import { addUsage, zeroUsage, type FailureKind, type JournalEntry, type RunRecord, type Usage } from '../run/types.js';
import type { Store } from '../store/types.js';
import { persistedSnapshot, restoreActor } from './persisted.js';
import { abortCharge, checkpointOf, entryData } from './redrive.js';
import { CHILD_KINDS } from './child-events.js';
import { kindOf } from '../kinds/index.js';
import { stepOf as stepOfWorkflow } from '../definition/sequences.js';
import { activeStepsOf, positionOf, positionOfStep, type Position, type SnapshotLike } from './position.js';
import { upgradeSnapshot } from './upgrade.js';

/** Part of a run's recorded history: journal entries, replayed until `stop.step` is entered (the event that enters it stamped `stop.at`). */
export interface HistorySegment {
  readonly runId: string;
  readonly entries: readonly JournalEntry[];
  readonly stop: { readonly step: string; readonly at: number } | null;
}

/** The `created` entry of a rerun names the run and step it started from. */
function rerunOrigin(entries: readonly JournalEntry[]): { runId: string; from: string } | null {
  const data = entries[0]?.event === 'created' ? entries[0].data : undefined;
  if (typeof data !== 'object' || data === null) return null;
  const { rerunOf, from } = data as { rerunOf?: unknown; from?: unknown };
  return typeof rerunOf === 'string' && typeof from === 'string' ? { runId: rerunOf, from } : null;
}

/**
 * Everything `record` went through, oldest first: a rerun's own journal starts
 * where the run it reran entered the rerun step, so the history of that run,
 * up to that point, comes first.
 */
export async function recordedHistory(store: Store, record: RunRecord, depth = 0): Promise<HistorySegment[]> {
  const entries = await store.journal(record.id);
  const origin = rerunOrigin(entries);
  if (!origin) return [{ runId: record.id, entries, stop: null }];
  if (depth > 100) throw new StepwiseError('usage', `run ${record.id} is a rerun of a rerun more than 100 times over`);
  const before = await store.get(origin.runId);
  if (!before) throw new RunNotFoundError(origin.runId);
  const earlier = await recordedHistory(store, before, depth + 1);
  const last = earlier[earlier.length - 1]!;
  return [...earlier.slice(0, -1), { ...last, stop: { step: origin.from, at: record.createdAt } }, { runId: record.id, entries, stop: null }];
}

const stepOf = (position: Position): string | null => ('step' in position ? position.step : null);

/** The events the driver sent when it wrote `entry`, given where the run is; `next` is the entry after it. */
function eventsOf(entry: JournalEntry, next: JournalEntry | undefined, position: Position, budget: ResolvedBudget, fingerprint: () => string | undefined): RunEvent[] {
  // Every event names the step it is for, so with several active steps (parallel branches) only that one takes it.
  const step = entry.step ?? undefined;
  return unscopedEventsOf(entry, next, position, budget, fingerprint).map((event) => (step !== undefined && event.type !== 'run.resume' ? ({ ...event, step } as RunEvent) : event));
}

function unscopedEventsOf(entry: JournalEntry, next: JournalEntry | undefined, position: Position, budget: ResolvedBudget, fingerprint: () => string | undefined): RunEvent[] {
  const at = entry.at;
  const data = (entry.data ?? {}) as Record<string, unknown>;
  // The local estimate of the attempt's billed input, which the run's calibration sums.
  const estimated = typeof data['estimatedInput'] === 'number' ? { estimatedInput: data['estimatedInput'] } : {};
  // A parallel step: a branch failed (fail_fast) or was collected.
  if (entry.event === 'branch_failed' && typeof data['branch'] === 'string') return [{ type: 'parallel.collect', at, branch: data['branch'] }];
  if (entry.event === 'failed' && typeof data['branch'] === 'string' && entry.error) {
    return [{ type: 'parallel.fail', at, branch: data['branch'], error: { kind: entry.error.kind as FailureKind, message: entry.error.message } }];
  }
  switch (entry.event) {
    case 'started': {
      // A restored attempt ran again without a new event.
      if (data['rerun'] === true || position.kind !== 'work') return [];
      const run: RunEvent = { type: 'step.run', at, projectedTokens: 0, projectedUsd: 0 };
      if (position.phase === 'retrying') return [{ type: 'step.retry', at }, run];
      return position.phase === 'ready' ? [run] : [];
    }
    case 'completed': {
      const fp = fingerprint();
      return [{ type: 'step.done', at, output: entry.output ?? null, usage: entry.usage ?? zeroUsage, ...estimated, ...(fp !== undefined ? { fingerprint: fp } : {}) }];
    }
    case 'failed': {
      if (position.kind !== 'work') return []; // a choice or the deadline failed the run: nothing went on from there
      const retry = next?.event === 'retry_scheduled' && next.step === entry.step ? (next.data as { retryAt?: unknown } | undefined) : undefined;
      const failed: RunEvent = {
        type: 'step.failed',
        at,
        usage: entry.usage ?? zeroUsage,
        ...estimated,
        // The journal holds the kind the driver reported, a FailureKind.
        error: { kind: (entry.error?.kind ?? 'tool_error') as FailureKind, message: entry.error?.message ?? 'failed' },
        retryable: retry !== undefined,
        retryAt: typeof retry?.retryAt === 'number' ? retry.retryAt : null,
      };
      // The step's input could not be prepared: the driver started the attempt and failed it at once.
      return position.phase === 'ready' ? [{ type: 'step.run', at, projectedTokens: 0, projectedUsd: 0 }, failed] : [failed];
    }
    case 'choice':
      return typeof data['branch'] === 'number' ? [{ type: 'choice.take', at, index: data['branch'] }] : [];
    case 'event': {
      const type = data['type'];
      if (typeof type !== 'string' || !isWaitEventType(type)) return [];
      return [{ type, at, ...(data['data'] !== null && data['data'] !== undefined ? { data: data['data'] } : {}) }];
    }
    case 'timeout':
      return [{ type: 'wait.timeout', at }];
    case 'waiting': {
      const step = entry.step ?? undefined;
      // A reviewed step's proposal: the model's valid input, waiting for a person.
      if (data['review'] === true && typeof data['tool'] === 'string' && step) {
        const schema = (data['schema'] ?? {}) as Record<string, unknown>;
        const prompt = typeof data['prompt'] === 'string' ? { prompt: data['prompt'] } : {};
        return [{ type: 'step.proposed', step, at, tool: data['tool'], schema, input: entry.input, usage: entry.usage ?? zeroUsage, ...prompt }];
      }
      // A wait's `show` data, as it was evaluated when the wait was entered.
      if (step && ('show' in data || 'showError' in data)) {
        return [{ type: 'wait.shown', step, at, data: data['show'] ?? null, ...(typeof data['showError'] === 'string' ? { problem: data['showError'] } : {}) }];
      }
      return [];
    }
    case 'resumed': {
      // The rerun keeps its own budget (the original's, or the changed definition's); a redrive from a checkpoint
      // charged again what was spent after it.
      const usage = data['checkpoint'] !== undefined && typeof data['carried'] === 'object' && data['carried'] !== null ? (data['carried'] as Usage) : null;
      const carried = usage && entry.step !== null ? { carried: { step: entry.step, usage } } : {};
      return [{ type: 'run.resume', at, budget, ...carried, ...(data['redrive'] === true ? { redrive: true as const } : {}) }];
    }
    default:
      return [];
  }
}

/** The checkpoint a `resumed` entry of a redrive went back to (kept by the entry it names), if it did. */
function rewoundTo(entry: JournalEntry, entries: readonly JournalEntry[]): unknown {
  const seq = entryData(entry, 'resumed')?.['checkpoint'];
  if (typeof seq !== 'number') return undefined;
  const kept = entries.find((e) => e.seq === seq);
  return kept ? checkpointOf(kept) : undefined;
}

/** Entries that say what happened at a step, and so must be where the replayed machine is. */
const stepEvents = new Set<JournalEntry['event']>(['started', 'completed', 'failed', 'choice', 'event', 'timeout']);

/**
 * Drives a fresh actor of `machine` through `history` until it first enters
 * `target.step`, and returns its persisted snapshot (with its context and position). The event that enters a
 * stop is stamped with the stop's time, so the step is entered "now" (a wait's
 * timeout counts from then); every other event keeps its recorded time.
 *
 * @example
 * ```ts
 * const { snapshot } = replayTo(compile(workflow), workflow, { input, budget, at: now }, history, runFingerprints, { step: 'pay', at: now });
 * ```
 */
export function replayTo(
  machine: WorkflowMachine,
  workflow: Workflow,
  input: { readonly input: unknown; readonly budget: ResolvedBudget; readonly at: number },
  history: readonly HistorySegment[],
  fingerprints: RunContext['fingerprints'],
  target: { readonly step: string; readonly at: number },
): { readonly snapshot: ReturnType<Actor<WorkflowMachine>['getPersistedSnapshot']>; readonly context: RunContext; readonly position: Position } {
  let actor = createActor(machine, { input });
  actor.start();
  const position = () => positionOf(workflow, actor.getSnapshot());
  const actives = () => activeStepsOf(workflow, actor.getSnapshot()).steps;
  const activeAt = (step: string) => actives().some((s) => s.id === step);
  /** Where the run is at `step` when it is one of its active steps (a branch step of a parallel step). */
  const positionAt = (step: string): Position | null => {
    const active = actives().find((s) => s.id === step);
    return active ? positionOfStep(workflow, active, actor.getSnapshot().status === 'done') : null;
  };
  const done = () => ({ snapshot: persistedSnapshot(actor) as ReturnType<Actor<WorkflowMachine>['getPersistedSnapshot']>, context: actor.getSnapshot().context, position: position() });
  try {
    /**
     * An aborted step's charge is journaled when its effect stops, which may come after the run went on (an onError
     * route entered the next step): at a stop, the charges of visits the run had already left are sent too.
     */
    const chargeLateAborts = (later: readonly JournalEntry[]) => {
      for (const entry of later) {
        if (entry.step === null || !abortCharge(entry)) continue;
        // The aborted visit had been entered and left by the stop (the step may be active again, at a later visit).
        const visit = actor.getSnapshot().context.visits[entry.step] ?? 0;
        if (visit < entry.visit || (visit === entry.visit && activeAt(entry.step))) continue;
        actor.send({ type: 'run.charge', at: entry.at, usage: entry.usage ?? zeroUsage });
      }
    };
    const used = new Map<string, number>();
    /** What each visit of a child-run step has journaled so far, by `visit:step`. */
    const childTotals = new Map<string, Usage>();
    /** Adds `usage` to what visit `visit` of child-run step `step` has journaled; returns the total. */
    const childTotal = (step: string, visit: number, usage: Usage): Usage => {
      const key = `${visit}:${step}`;
      const total = addUsage(childTotals.get(key) ?? zeroUsage, usage);
      childTotals.set(key, total);
      return total;
    };
    /**
     * What the rests of a child-run step's visit charged in the original (its `waiting` entries with `data.resting`),
     * by `visit:step`, not charged here yet: the step's settling charges them with the rest (its event carries its
     * children's total), and a visit the machine leaves without settling (a failed sibling branch, an onError route)
     * is charged them when it leaves it. A visit still resting where the replay stops is not: a rerun does not keep it.
     */
    const restCharges = new Map<string, { readonly step: string; readonly visit: number; usage: Usage }>();
    const chargeLeftRests = (at: number) => {
      for (const [key, rest] of restCharges) {
        if (actor.getSnapshot().context.visits[rest.step] === rest.visit && activeAt(rest.step)) continue;
        restCharges.delete(key);
        actor.send({ type: 'run.charge', at, usage: rest.usage });
      }
    };
    /** Whether sending `event` enters `step` (a new visit of it); if so, it is sent stamped `at`. */
    const sendEntering = (event: RunEvent, stops: ReadonlyArray<{ step: string; at: number }>): boolean => {
      const before = actor.getSnapshot();
      const [after] = transition(machine, before, event);
      const stop = stops.find((s) => (after.context.visits[s.step] ?? 0) > (before.context.visits[s.step] ?? 0));
      actor.send(stop ? { ...event, at: stop.at } : event);
      return stop !== undefined;
    };
    if (activeAt(target.step)) return done();
    for (const segment of history) {
      const stops = segment.stop ? [target, segment.stop] : [target];
      let stopped = false;
      let i = 0;
      for (; i < segment.entries.length && !stopped; i++) {
        let entry = segment.entries[i]!;
        // A redrive from the checkpoint a parallel step kept: the run went back to it (then resumed, as sent below).
        const checkpoint = rewoundTo(entry, segment.entries);
        if (checkpoint !== undefined) {
          actor.stop();
          try {
            actor = restoreActor(machine, upgradeSnapshot(checkpoint as SnapshotLike));
            actor.start();
          } catch (error) {
            throw new StepwiseError('usage', `run ${segment.runId} was redriven from a state this definition does not have (${(error as Error).message}): rerun it on its own definition`);
          }
          // The steps' outputs since the checkpoint are undone: their fingerprints are counted from the checkpoint's.
          used.clear();
          // Its usage holds what the rests before it charged.
          restCharges.clear();
          for (const [step, list] of Object.entries(actor.getSnapshot().context.fingerprints)) used.set(step, list.length);
        }
        // A parallel step's completion happened inside the machine (its last branch ended): nothing to send.
        if (entry.event === 'completed' && entry.step !== null && kindOf(stepOfWorkflow(workflow, entry.step) ?? {})?.sequences) continue;
        // A step aborted by a failed sibling branch charged the run what its children (or its attempt) had spent
        // (`run.charge`), whatever the run was at by then: replayed, the charge is what its journal entry counts (for a
        // run journaled before rests were, also what the step's rests had charged), which counts toward its children's total.
        if (entry.step !== null && abortCharge(entry)) {
          const usage = entry.usage ?? zeroUsage;
          actor.send({ type: 'run.charge', at: entry.at, usage });
          childTotal(entry.step, entry.visit, usage);
          continue;
        }
        // An attempt aborted by a failed sibling branch sent nothing: its step has already been left.
        if (entry.event === 'failed' && entry.error?.kind === 'cancelled' && entry.step !== null && !activeAt(entry.step)) continue;
        const pos = entry.step !== null ? (positionAt(entry.step) ?? position()) : position();
        if (stepEvents.has(entry.event) && entry.step !== null && entry.step !== stepOf(pos)) {
          throw new StepwiseError(
            'usage',
            `run ${segment.runId} went through step "${entry.step}" where this definition is at "${stepOf(pos) ?? pos.kind}": rerun on a definition whose steps before "${target.step}" route the same way`,
          );
        }
        // A step whose work is done by child runs (map, workflow) journals at each settling only what it adds; its
        // events carry its children's total so far, which the machine charges the difference of.
        let settles: string | null = null;
        if (entry.step !== null && entry.usage && CHILD_KINDS.has(kindOf(stepOfWorkflow(workflow, entry.step) ?? {})?.name ?? '')) {
          const key = `${entry.visit}:${entry.step}`;
          if (entry.event === 'waiting' && entryData(entry, 'waiting')?.['resting'] === true) {
            const rest = restCharges.get(key);
            if (rest) rest.usage = addUsage(rest.usage, entry.usage);
            else restCharges.set(key, { step: entry.step, visit: entry.visit, usage: entry.usage });
          } else {
            settles = key;
          }
          entry = { ...entry, usage: childTotal(entry.step, entry.visit, entry.usage) };
        }
        const fingerprint = () => {
          if (!entry.step) return undefined;
          const n = used.get(entry.step) ?? 0;
          used.set(entry.step, n + 1);
          return fingerprints[entry.step]?.[n];
        };
        const events = eventsOf(entry, segment.entries[i + 1], pos, input.budget, fingerprint);
        // The settling's event charges the children's total, its rests' charges included.
        if (settles !== null && events.some((event) => 'usage' in event)) restCharges.delete(settles);
        for (const event of events) {
          if (sendEntering(event, stops)) {
            stopped = true;
            break;
          }
        }
        if (restCharges.size > 0) chargeLeftRests(entry.at);
      }
      if (stopped) chargeLateAborts(segment.entries.slice(i));
      if (activeAt(target.step) && stopped) return done();
    }
    const at = position();
    throw new StepwiseError('usage', `replaying the recorded steps did not reach "${target.step}" (they end at "${stepOf(at) ?? at.kind}")`);
  } finally {
    actor.stop();
  }
}
