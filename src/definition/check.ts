/**
 * Semantic checks of a definition that passed the schema: transitions name
 * existing steps, every step can finish, no cycle is made of choice steps
 * alone, expressions parse and every `$steps.<id>` they read names a step,
 * waits that time out have somewhere to go, no `context:` value passes a
 * whole unbounded output on uncut. Errors and warnings use the same located format.
 *
 * Routing rule: a step of a flowing kind (`claude`, `analyze`, `tool`) without
 * `next` goes to the step listed right after it (see {@link nextStep}); the
 * last step listed needs an explicit `next` unless its kind routes by itself
 * (`choice`, `wait`) or ends the run (`final`). Each kind adds its own checks
 * and names the fields that hold expressions (src/kinds).
 */
import type { DefinitionIssue } from '../errors.js';
import { expressionIssues, expressionsIn } from '../expr/index.js';
import { kindOf, kindOfStep } from '../kinds/index.js';
import { edges, nextStep, startStep } from './graph.js';
import { issueMaker, type Locate, type PathSegment } from './locate.js';
import { reachFindings, type Finding } from './reach.js';
import type { Workflow } from './schema.js';
import { unknownStepRefs } from './step-refs.js';
import { unboundedContextFindings } from './context-bounds.js';
import { didYouMean } from './suggest.js';

/** What {@link checkWorkflow} found; only `errors` make a definition invalid. */
export interface CheckResult {
  readonly errors: DefinitionIssue[];
  readonly warnings: DefinitionIssue[];
}

/**
 * Checks a schema-valid workflow. Does not throw: the caller decides (the
 * loader throws a `DefinitionError` when `errors` is not empty).
 *
 * @example
 * ```ts
 * const { errors, warnings } = checkWorkflow(workflow, locate, 'invoice.yaml');
 * if (errors.length) throw new DefinitionError(errors);
 * ```
 */
export function checkWorkflow(workflow: Workflow, locate: Locate, file: string): CheckResult {
  const issue = issueMaker(file, locate);
  const errors: Finding[] = [];
  const warnings: Finding[] = [];
  const ids = Object.keys(workflow.steps);
  const unknown = (to: string) => `no step named "${to}"${didYouMean(to, ids) || `; steps are: ${ids.join(', ')}`}`;

  if (workflow.start !== undefined && !workflow.steps[workflow.start]) errors.push({ path: ['start'], message: unknown(workflow.start) });

  const all = edges(workflow);
  const expressions: Array<{ path: PathSegment[]; text: string }> = [];
  const broken = new Set<string>();
  for (const edge of all) {
    if (workflow.steps[edge.to]) continue;
    broken.add(edge.from);
    errors.push({ path: edge.path, message: unknown(edge.to) });
  }

  for (const [id, step] of Object.entries(workflow.steps)) {
    const kind = kindOfStep(id, step);
    const path: PathSegment[] = ['steps', id];
    if (kind.flows && nextStep(workflow, id) === undefined) {
      broken.add(id);
      errors.push({
        path,
        message: `step "${id}" has no next and is listed last, so nothing follows it; add next, or end the workflow with a final step`,
      });
    }
    const own = kind.check?.(id, step);
    for (const f of own?.errors ?? []) errors.push({ path: [...path, ...f.path], message: f.message });
    for (const f of own?.warnings ?? []) warnings.push({ path: [...path, ...f.path], message: f.message });
    errors.push(...stepExpressionIssues(step, path));
    expressions.push(...stepExpressions(step, path));
  }

  errors.push(...unknownStepRefs(expressions, ids));
  warnings.push(...unboundedContextFindings(workflow));

  const reach = reachFindings(workflow, startStep(workflow), all.filter((edge) => workflow.steps[edge.to]), broken);
  errors.push(...reach.errors);
  warnings.push(...reach.warnings);
  return {
    errors: errors.map((f) => issue(f.path, f.message)),
    warnings: warnings.map((f) => issue(f.path, f.message)),
  };
}

/** Syntax of every expression a step holds: `prompt`, `system`, `context`, `with`, `output` and choice `when` (with or without `{% %}`). */
function stepExpressionIssues(step: Workflow['steps'][string], path: readonly PathSegment[]): Finding[] {
  return expressionFields(step).flatMap(([value, at]) =>
    value === undefined ? [] : expressionIssues(value).map((found) => ({ path: [...path, ...at, ...found.path], message: found.message })),
  );
}

/** The text of every expression a step holds, with the path of its field. */
function stepExpressions(step: Workflow['steps'][string], path: readonly PathSegment[]): Array<{ path: PathSegment[]; text: string }> {
  return expressionFields(step).flatMap(([value, at]) => expressionsIn(value).map((found) => ({ path: [...path, ...at, ...found.path], text: found.text })));
}

/** The fields of a step that may hold expressions, with their paths under the step: its kind says which. */
function expressionFields(step: Workflow['steps'][string]): Array<[value: unknown, at: PathSegment[]]> {
  return (kindOf(step)?.expressions?.(step) ?? []).map(([value, at]) => [value, [...at]]);
}
