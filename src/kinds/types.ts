/**
 * What a step kind is: one object that says everything every layer needs to
 * know about steps of that kind, so no layer switches on kind names. The
 * schema, the compiler, the checks, the worst case, the diagrams, the path
 * tests and the driver all iterate the registry (./index.ts).
 */
import type { z } from 'zod';
import type { StateConfig } from '../compile/setup.js';
import type { RunContext } from '../compile/context.js';
import type { RunEvent } from '../compile/events.js';
import type { PathSegment } from '../definition/locate.js';
import type { Workflow } from '../definition/schema.js';
import type { CrashPointName } from '../engine/crash-points.js';
import type { RunScope } from '../engine/scope.js';
import type { StepExecutor } from '../steps/types.js';
import type { AnyTool } from '../tools/define.js';

/** What the compiler hands a kind building the state of one step. */
export interface CompileScope {
  readonly workflow: Workflow;
  /** Where the step goes on success when its kind flows on (`flows`): its `next`, else the step listed after it (or its branch's end). */
  readonly next: string | undefined;
  /** The compiled state of another step of the workflow (a step nested in this one, e.g. a branch step). */
  readonly stepState: (id: string) => StateConfig;
}

/** A sequence of steps nested in a step (a branch of a `parallel` step): its own steps, start and routes. */
export interface NestedSequence {
  /** Its name within the step, e.g. the branch name. */
  readonly name: string;
  readonly steps: Readonly<Record<string, Workflow['steps'][string]>>;
  /** Its first step: `start`, else the first one listed. */
  readonly start: string | undefined;
  /** The path of `steps`, relative to the step. */
  readonly path: readonly PathSegment[];
}

/**
 * The definition a step runs inline, as the engine runs it (a map body, once per item): its step ids are its own,
 * and its `$steps` are its own steps.
 */
export interface InlineDefinition {
  readonly workflow: Workflow;
  /** Where its own paths sit in the step: its `steps` and `start` are the step's `[...path, 'steps']` and `[...path, 'start']`. */
  readonly path: readonly PathSegment[];
  /** Steps the engine adds to it (not the author's): nothing is checked or reported about them. */
  readonly added: readonly string[];
}

/** One transition a step declares, at the path of the field that declares it. */
export interface KindEdge {
  readonly to: string;
  readonly path: readonly PathSegment[];
  /** The implicit `next` of a step without one. */
  readonly implicit?: boolean;
}

/** A problem found at `path`, relative to the step. */
export interface KindFinding {
  readonly path: readonly PathSegment[];
  readonly message: string;
}

/** What a model step sends and receives at most in one attempt, for the worst-case bound. */
export interface ModelBound {
  /** Input tokens of a first attempt at most (a lower bound when `unbounded` is not empty). */
  readonly inputTokens: number;
  readonly maxTokens: number;
  /** Input tokens a retry adds at most: the feedback on the rejected attempt. */
  readonly feedbackTokens?: number;
  /** Of `inputTokens`, the cached prefix each attempt may write to the prompt cache (billed at 1.25×); none when absent. */
  readonly cacheWriteTokens?: number;
  /** The fields that leave the prompt unbounded (each a path and why), none when bounded. */
  readonly unbounded?: readonly string[];
  /** The attempts the bound is counted for; default the step's retry policy. A step whose bound already covers its retries (a `map`) says 1. */
  readonly attempts?: number;
}

/** A tool as the model sees it. */
export interface ToolSchema {
  readonly name: string;
  readonly description: string;
  readonly input_schema: Record<string, unknown>;
  /** JSON Schema of what the tool returns, when it declares one (not sent to the model; sizes `$steps.<id>.output`). */
  readonly output_schema?: Record<string, unknown>;
}

/** An active step of a run: the step state's key, its kind, and the active child state (phase) of a compound step state. */
export interface ActiveStep {
  readonly id: string;
  readonly kind: string;
  readonly phase: string | null;
}

/**
 * What a handler did with an active step:
 * - `moved`: it sent the machine an event (look at the active steps again);
 * - `effect`: a long effect (a model or tool call) to run while other steps go
 *   on; when it settles it has sent its result;
 * - `rest`: nothing to do until an event or `wakeAt` (`sleep`: the driver
 *   may sleep until then, as for a retry backoff); `force` commits even if
 *   nothing changed, `onCommit` journals why, `output` is the run's output;
 * - `stop`: commit and return (a step-at-a-time caller has had its step).
 */
export type Advance =
  | { readonly kind: 'moved' }
  | { readonly kind: 'effect'; readonly run: () => Promise<void> }
  | {
      readonly kind: 'rest';
      readonly wakeAt?: number | null;
      readonly sleep?: boolean;
      readonly force?: boolean;
      readonly onCommit?: () => void;
      readonly crash?: CrashPointName;
      readonly output?: unknown;
    }
  | { readonly kind: 'stop' };

/**
 * How the driver advances an active step of a kind. In a drive whose `run.mode` is `'due'` (it fires only what came
 * due, before an event or a cancel) a handler starts no work: a step that would call a tool or the model, or drive child runs
 * without a due timer, answers `rest` and stays where it is.
 */
export interface StepHandler<S> {
  advance(run: RunScope, step: ActiveStep, spec: S): Promise<Advance>;
}

/** What a kind checking an event's data sees of the run. */
export interface AdmitScope {
  readonly context: RunContext;
  readonly tools: ReadonlyMap<string, AnyTool>;
}

/** Whether an event's data is accepted; a refusal names the field at fault (`data.input.amount`). */
export type Admission =
  | { readonly ok: true; readonly journal?: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly message: string; readonly field?: string };

/**
 * A step kind. `S` is the type of its steps, as its schema parses them.
 *
 * @example
 * ```ts
 * export const noteKind = defineStepKind({ name: 'note', schema: NoteStep, ... });
 * registerStepKind(noteKind);
 * ```
 */
export interface StepKindDefinition<S = unknown> {
  /** The key that names the kind in a step (`claude:`, `tool:`, …); it is also `meta.stepwise.kind`. */
  readonly name: string;
  /** The step's schema (a strict object holding the key `name`). */
  readonly schema: z.ZodType<S>;
  /** Steps of this kind go on by `next`, or by the order steps are listed when they have none. */
  readonly flows?: boolean;
  /** A step of this kind moves on at once, doing no work and waiting for nothing (a cycle of such steps only is an error). */
  readonly instant?: boolean;
  /** Reaching a step of this kind ends the run (or its parallel region). */
  readonly ends?: boolean;
  /** What a misplaced `next` or `onError` is told about the kind's own routes. */
  readonly routeHint?: string;
  /** The trail status of a visit when it is entered. */
  readonly entered: 'running' | 'waiting' | 'done';
  /** The compiled state of step `id`. */
  state(id: string, step: S, scope: CompileScope): StateConfig;
  /** Steps of this kind hold sequences of steps of their own (branches); their step ids are unique across the workflow. */
  sequences?(step: S): readonly NestedSequence[];
  /** Steps of this kind run a definition of their own steps (a map body); `workflow` is the one the step is in. */
  inline?(id: string, step: S, workflow: Workflow): InlineDefinition;
  /** The transitions the step declares (`next` is the resolved success route of a flowing kind). */
  edges(id: string, step: S, next: string | undefined): readonly KindEdge[];
  /** Semantic checks beyond the schema. */
  check?(id: string, step: S): { readonly errors: readonly KindFinding[]; readonly warnings: readonly KindFinding[] };
  /**
   * The expressions the step holds, with their paths (their syntax is checked at load). A value that is not the
   * field's text as written gives `shift`: index `i` of the value is index `i + shift` of the field's text.
   */
  expressions?(step: S): ReadonlyArray<readonly [value: unknown, path: readonly PathSegment[], shift?: number]>;
  /** The tools the step uses, with the path naming each. */
  tools?(step: S): ReadonlyArray<{ readonly name: string; readonly path: readonly PathSegment[] }>;
  /** Checks that need the schemas of the tools the step uses; run once its tools are loaded. */
  toolChecks?(step: S, toolOf: (name: string) => ToolSchema | undefined): { readonly errors: readonly KindFinding[]; readonly warnings: readonly KindFinding[] };
  /** One attempt's worst case, for a step that calls the model. */
  worstCase?(step: S, workflow: Workflow, toolOf: (name: string) => ToolSchema | undefined): ModelBound | null;
  /** The events a step of this kind waits for from outside the run (`engine.send`) while in `phase`. */
  accepts?(step: S, phase: string | null): readonly string[];
  /** The phases of a step of this kind in which the run waits for a person or system (a `wait` waits whenever it is active). */
  readonly waitingPhases?: readonly string[];
  /**
   * Checks the data of an event the step accepts before it is delivered (e.g. an edited tool input):
   * a refusal is thrown to the sender and changes nothing; `journal` adds fields to the event's journal entry.
   */
  admit?(id: string, step: S, event: { readonly type: string; readonly data: unknown }, scope: AdmitScope): Admission;
  /** When the run must be looked at again by itself for this active step (a backoff, a timeout), or null. */
  wakeAt?(id: string, step: S, phase: string | null, context: RunContext): number | null;
  /** The step's label in diagrams (what it does), e.g. the tool it calls. */
  label(step: S): string;
  /**
   * The events a path test may send the step in `phase`, each meaning one route; `phaseOf` gives the phase of
   * another active step (null when it is not active), e.g. a branch step of a parallel step.
   */
  pathEvents(id: string, step: S, phase: string | null, phaseOf: (step: string) => string | null): readonly RunEvent[];
  /** How the driver advances the step. */
  readonly handler: StepHandler<S>;
  /** For a kind whose steps an executor performs (its handler is `workHandler(executor)`): that executor. */
  readonly executor?: StepExecutor;
}

/** Declares a step kind, typed by its schema. */
export function defineStepKind<S>(kind: StepKindDefinition<S>): StepKindDefinition<S> {
  return kind;
}
