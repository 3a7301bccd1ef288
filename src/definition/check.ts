/**
 * Semantic checks of a definition that passed the schema: transitions name
 * existing steps, every step can finish, no cycle is made of choice steps
 * alone, expressions parse and every `$steps.<id>` they read names a step,
 * waits that time out have somewhere to go, the JSON Schemas (`input`,
 * `analyze.schema`) compile, no `context:` value passes a
 * whole unbounded output on uncut. Errors and warnings use the same located format.
 * A map body is checked the same way, as the definition its items run (its
 * own steps, its own `$steps`; see scopes.ts), at the paths of its steps.
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
import { byPosition, issuesAt, type Locate, type PathSegment } from './locate.js';
import { reachFindings, type Finding } from './reach.js';
import type { Workflow } from './schema.js';
import { unknownStepRefs } from './step-refs.js';
import { unboundNameFindings } from './expr-names.js';
import { unboundedContextFindings } from './context-bounds.js';
import { didYouMean } from './suggest.js';
import { schemaIssues } from './schema-compiles.js';
import { allSteps, duplicateSteps, sequenceOf, sequencesOf, startOf, stepIds, stepOf, stepPath } from './sequences.js';
import { aboutAdded, located, scopesOf, type Scope } from './scopes.js';

/** What {@link checkWorkflow} found; only `errors` make a definition invalid. */
export interface CheckResult {
  readonly errors: DefinitionIssue[];
  readonly warnings: DefinitionIssue[];
}

/**
 * Checks a schema-valid workflow. Does not throw: the caller decides (the
 * loader throws a `DefinitionError` when `errors` is not empty). Issues come in file order.
 *
 * @example
 * ```ts
 * const { errors, warnings } = checkWorkflow(workflow, locate, 'invoice.yaml');
 * if (errors.length) throw new DefinitionError(errors);
 * ```
 */
export function checkWorkflow(workflow: Workflow, locate: Locate, file: string): CheckResult {
  const errors: Finding[] = workflow.input === undefined ? [] : schemaIssues(workflow.input, ['input']);
  const warnings: Finding[] = [];
  // The workflow, then each map body as the definition its items run (a map body's steps are checked as its own).
  for (const scope of scopesOf(workflow)) {
    const found = checkScope(scope);
    const place = (f: Finding): Finding[] => (aboutAdded(scope, f.path) ? [] : [{ ...f, path: located(scope, f.path) }]);
    errors.push(...found.errors.flatMap(place));
    warnings.push(...found.warnings.flatMap(place));
  }
  const found = issuesAt({ errors, warnings }, file, locate);
  return { errors: byPosition(found.errors), warnings: byPosition(found.warnings) };
}

/** The findings of one scope (the workflow, or a map body), at paths of its own. */
function checkScope(scope: Scope): { errors: Finding[]; warnings: Finding[] } {
  const { workflow } = scope;
  const body = scope.owner !== null;
  const errors: Finding[] = [];
  const warnings: Finding[] = [];
  const ids = stepIds(workflow).filter((id) => !scope.added.has(id));
  const listed = (prefix: string) => (ids.length ? `; ${prefix}: ${ids.join(', ')}` : '');
  const unknown = (to: string) =>
    body ? `"${to}" is not a step of the map body${didYouMean(to, ids) || listed('body steps are')}` : `no step named "${to}"${didYouMean(to, ids) || listed('steps are')}`;

  if (workflow.start !== undefined && !workflow.steps[workflow.start]) {
    errors.push({ path: ['start'], message: body ? `no body step "${workflow.start}"${listed('body steps are')}` : unknown(workflow.start) });
  }
  for (const dup of duplicateSteps(workflow)) {
    errors.push({ path: dup.path, message: `step id "${dup.id}" is already used at ${dup.first.join('.')}; step ids must be unique across the workflow, branches included` });
  }

  const all = edges(workflow);
  const expressions: Array<{ path: PathSegment[]; text: string; at: number }> = [];
  const broken = new Set<string>();
  for (const edge of all) {
    // A step the engine added is reached only by the order steps are listed in, never named.
    if (!stepOf(workflow, edge.to) || (scope.added.has(edge.to) && !edge.implicit)) {
      broken.add(edge.from);
      errors.push({ path: edge.path, message: unknown(edge.to) });
      continue;
    }
    const from = sequenceOf(workflow, edge.from);
    const to = sequenceOf(workflow, edge.to);
    if (from !== to) {
      broken.add(edge.from);
      const outer = body ? 'the map body' : 'the top level';
      const where = (s: typeof from) => (s?.owner ? `branch "${s.name}" of "${s.owner}"` : outer);
      const within = from?.owner ? `steps of branch "${from.name}" (${Object.keys(from.steps).join(', ')})` : body ? 'steps of the map body' : 'top-level steps';
      errors.push({ path: edge.path, message: `"${edge.to}" is a step of ${where(to)}; a route from "${edge.from}" may only name ${within}` });
    }
  }

  for (const [id, step] of allSteps(workflow)) {
    const kind = kindOfStep(id, step);
    const path = stepPath(workflow, id);
    if (kind.flows && nextStep(workflow, id) === undefined && !sequenceOf(workflow, id)?.owner) {
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
  errors.push(...unboundNameFindings(expressions));
  warnings.push(...unboundedContextFindings(workflow));

  const top = all.filter((edge) => workflow.steps[edge.to] && workflow.steps[edge.from]);
  const reach = reachFindings(workflow, startStep(workflow), top, broken);
  errors.push(...reach.errors);
  warnings.push(...reach.warnings);
  // Within a branch: every step is reached from the branch's start (a branch ends when its last step flows out).
  const routes = new Map<string, string[]>();
  for (const edge of all) {
    const known = routes.get(edge.from);
    if (known) known.push(edge.to);
    else routes.set(edge.from, [edge.to]);
  }
  for (const sequence of sequencesOf(workflow).slice(1)) {
    const start = startOf(sequence);
    // A start that is no step of the branch is the parallel kind's error (src/kinds/parallel.ts): nothing to walk from.
    if (!sequence.steps[start]) continue;
    const reached = new Set([start]);
    const queue = [start];
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      for (const to of routes.get(id) ?? []) if (sequence.steps[to] && !reached.has(to)) (reached.add(to), queue.push(to));
    }
    for (const id of Object.keys(sequence.steps)) {
      if (!reached.has(id)) warnings.push({ path: [...sequence.path, id], message: `step "${id}" is never reached from the start step "${start}" of branch "${sequence.name}"` });
    }
  }
  return { errors, warnings };
}

/** Syntax of every expression a step holds: `prompt`, `system`, `context`, `with`, `output` and choice `when` (with or without `{% %}`). */
function stepExpressionIssues(step: Workflow['steps'][string], path: readonly PathSegment[]): Finding[] {
  return expressionFields(step).flatMap(([value, field, shift]) =>
    value === undefined
      ? []
      : expressionIssues(value).map((found) => ({
          path: [...path, ...field, ...found.path],
          message: found.message,
          ...(found.at === undefined ? {} : { at: Math.max(0, found.at + shift) }),
        })),
  );
}

/** The text of every expression a step holds, with the path of its field and where the text starts in the field's string. */
function stepExpressions(step: Workflow['steps'][string], path: readonly PathSegment[]): Array<{ path: PathSegment[]; text: string; at: number }> {
  return expressionFields(step).flatMap(([value, field, shift]) =>
    expressionsIn(value).map((found) => ({ path: [...path, ...field, ...found.path], text: found.text, at: Math.max(0, found.at + shift) })),
  );
}

/** The fields of a step that may hold expressions, with their paths under the step and their shift (see `expressions` of a kind): its kind says which. */
function expressionFields(step: Workflow['steps'][string]): Array<[value: unknown, field: PathSegment[], shift: number]> {
  return (kindOf(step)?.expressions?.(step) ?? []).map(([value, field, shift]) => [value, [...field], shift ?? 0]);
}
