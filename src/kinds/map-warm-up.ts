/**
 * Whether a map's items call the model, which decides its warm-up: the first
 * item runs alone until its first model call has written the shared prompt
 * prefix, so the others read it instead of each writing it. A body calls the
 * model when one of its steps does, at any depth (parallel branches, nested
 * map bodies), or one of the child definitions its `workflow` steps start, and
 * so on down as deep as those children may nest (deeper ones are refused with
 * kind `loop`, so never call the model). Each child definition is looked into
 * once, so a cycle of them ends. A child that cannot be resolved counts as
 * calling the model: the warm-up is kept, as the step's own start will fail.
 */
import { resolve as resolvePath } from 'node:path';
import { nestedSteps, type ChildRefSpec } from '../definition/nested-steps.js';
import type { Workflow } from '../definition/schema.js';
import type { DefinitionSource } from '../engine/runtime.js';
import type { AnyStepKind } from './registry.js';

export interface WarmUpLookups {
  readonly kindOf: (step: object) => AnyStepKind | undefined;
  /** The definition `ref` names, written in the definition file `from` (null: a definition that is no file). */
  readonly resolve: (ref: ChildRefSpec, from: string | null) => Promise<DefinitionSource>;
}

/**
 * Whether the body `steps`, written in the definition file `from`, call the model, looking `levels` levels of child
 * definitions down.
 * @example
 * await callsModel(spec.map.steps, run.record().definition.source, 7, { kindOf, resolve: (ref, from) => run.children!.resolve(run, ref, from) });
 */
export async function callsModel(steps: Workflow['steps'], from: string | null, levels: number, lookups: WarmUpLookups): Promise<boolean> {
  const seen = new Set<string>();
  let level: Array<{ readonly steps: Workflow['steps']; readonly from: string | null }> = [{ steps, from }];
  for (let depth = 0; level.length > 0; depth++) {
    const refs: Array<{ readonly ref: ChildRefSpec; readonly from: string | null }> = [];
    for (const at of level) {
      for (const step of nestedSteps(at.steps)) {
        if (step.workflow) refs.push({ ref: step.workflow, from: at.from });
        // A step of a kind with a worst case calls the model itself, unless its steps are the ones that may (a map).
        else if (!step.holds && lookups.kindOf(step.step)?.worstCase !== undefined) return true;
      }
    }
    // The children of this level would run deeper than they may: never started.
    if (depth + 1 > levels) return false;
    level = [];
    for (const { ref, from: by } of refs) {
      let child: DefinitionSource;
      try {
        child = await lookups.resolve(ref, by);
      } catch {
        return true;
      }
      // As the engine stores it: a definition's file, resolved.
      const file = child.source ? resolvePath(child.source) : null;
      const key = `${file ?? ''}#${child.workflow.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      level.push({ steps: child.workflow.steps, from: file });
    }
  }
  return false;
}
