/**
 * The registry's store: the kinds by name and the lookups every layer uses.
 * It imports no kind, so a module any kind depends on (e.g. the definition's
 * sequences) can read it without an import cycle; src/kinds/index.ts
 * registers the built-in kinds into it.
 */
import { z } from 'zod';
import type { StepKindDefinition } from './types.js';

// Each kind is typed by its own steps; the registry holds them side by side.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStepKind = StepKindDefinition<any>;

const kinds = new Map<string, AnyStepKind>();

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

