/**
 * The step-kind registry: every layer that needs to know about step kinds
 * (schema validation, compiler, checks, worst case, diagrams, path tests,
 * driver) iterates it, so adding a kind is adding a file and registering it.
 *
 * Kinds are code, like the functions a program imports: registering one makes
 * it known process-wide (a definition using it loads, compiles and runs in
 * every engine), the way a module's exports are. Registering a kind with a
 * name already taken replaces it.
 *
 * @example
 * ```ts
 * import { defineStepKind, registerStepKind } from 'stepwise';
 * registerStepKind(defineStepKind({ name: 'note', schema: NoteStep, ... }));
 * ```
 */
import { z } from 'zod';
import { analyzeKind } from './analyze.js';
import { choiceKind } from './choice.js';
import { claudeKind } from './claude.js';
import { finalKind } from './final.js';
import { toolKind } from './tool.js';
import type { StepKindDefinition } from './types.js';
import { waitKind } from './wait.js';
import { workflowKind } from './workflow.js';
import { makeMapKind } from './map.js';

// Each kind is typed by its own steps; the registry holds them side by side.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStepKind = StepKindDefinition<any>;

const kinds = new Map<string, AnyStepKind>([claudeKind, analyzeKind, toolKind, choiceKind, waitKind, finalKind, workflowKind].map((k) => [k.name, k]));

// `map` bodies hold steps of any registered kind: the kind gets the registry's schema and lookup (it cannot import them).
kinds.set('map', makeMapKind({ anyStep: () => anyStepSchema(), kindOf: (step) => kindOf(step) }));

/** Makes `kind` known to every layer. */
export function registerStepKind(kind: AnyStepKind): void {
  kinds.set(kind.name, kind);
}

/** Every kind, the built-in ones first, in the order steps are matched against them. */
export function stepKindList(): readonly AnyStepKind[] {
  return [...kinds.values()];
}

/** The kind named `name` (a step's key, or a state's `meta.stepwise.kind`). */
export function kindNamed(name: string | undefined): AnyStepKind | undefined {
  return name === undefined ? undefined : kinds.get(name);
}

/** The kind of a step: the first kind whose name is one of the step's keys. */
export function kindOf(step: object): AnyStepKind | undefined {
  for (const kind of kinds.values()) if (kind.name in step) return kind;
  return undefined;
}

/** The kind of a step that passed validation. */
export function kindOfStep(id: string, step: object): AnyStepKind {
  const kind = kindOf(step);
  if (!kind) throw new Error(`step "${id}" is of no known kind; kinds are: ${[...kinds.keys()].join(', ')}`);
  return kind;
}

/** One schema for a step of any registered kind. */
export function anyStepSchema(): z.ZodType {
  const schemas = [...kinds.values()].map((k) => k.schema);
  return schemas.length === 1 ? schemas[0]! : z.union(schemas as [z.ZodType, z.ZodType, ...z.ZodType[]]);
}

export { defineStepKind } from './types.js';
export type { ActiveStep, Advance, CompileScope, KindEdge, KindFinding, ModelBound, StepHandler, StepKindDefinition, ToolSchema } from './types.js';
