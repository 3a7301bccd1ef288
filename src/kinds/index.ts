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
import { analyzeKind } from './analyze.js';
import { choiceKind } from './choice.js';
import { claudeKind } from './claude.js';
import { finalKind } from './final.js';
import { createParallelKind } from './parallel.js';
import { toolKind } from './tool.js';
import { waitKind } from './wait.js';
import { workflowKind } from './workflow.js';
import { makeMapKind } from './map.js';
import { anyStepSchema, kindOf, registerStepKind } from './registry.js';

for (const kind of [claudeKind, analyzeKind, toolKind, choiceKind, waitKind, finalKind]) registerStepKind(kind);
registerStepKind(createParallelKind(() => anyStepSchema(), (step) => kindOf(step)?.sequences?.(step) ?? []));
// `map` bodies hold steps of any registered kind: the kind gets the registry's schema and lookup (it cannot import them).
registerStepKind(makeMapKind({ anyStep: () => anyStepSchema(), kindOf: (step) => kindOf(step) }));
registerStepKind(workflowKind);

export { anyStepSchema, kindNamed, kindOf, kindOfStep, registerStepKind, stepKindList, type AnyStepKind } from './registry.js';
export { defineStepKind } from './types.js';
export type { ActiveStep, Admission, AdmitScope, Advance, CompileScope, InlineDefinition, KindEdge, KindFinding, ModelBound, NestedSequence, StepHandler, StepKindDefinition, ToolSchema } from './types.js';
