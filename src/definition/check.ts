/**
 * Semantic checks of a definition that passed the schema: transitions name
 * existing steps, every step can finish, no cycle is made of choice steps
 * alone, expressions parse and every `$steps.<id>` they read names a step,
 * waits that time out have somewhere to go. Errors and warnings use the same located format.
 *
 * Routing rule: a `claude`, `analyze` or `tool` step without `next` goes to
 * the step listed right after it (see {@link nextStep}); the last step listed
 * needs an explicit `next` unless it is a `choice`, `wait` or `final` step.
 */
import type { DefinitionIssue } from '../errors.js';
import { expressionIssues, expressionsIn, unwrapExpression } from '../expr/index.js';
import { edges, nextStep, startStep } from './graph.js';
import { issueMaker, type Locate, type PathSegment } from './locate.js';
import { reachFindings, type Finding } from './reach.js';
import { stepKind, type Workflow } from './schema.js';
import { unknownStepRefs } from './step-refs.js';
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
    const kind = stepKind(step);
    const path: PathSegment[] = ['steps', id];
    if ((kind === 'claude' || kind === 'analyze' || kind === 'tool') && nextStep(workflow, id) === undefined) {
      broken.add(id);
      errors.push({
        path,
        message: `step "${id}" has no next and is listed last, so nothing follows it; add next, or end the workflow with a final step`,
      });
    }
    if ('wait' in step) {
      if (step.wait.onTimeout !== undefined && step.wait.timeout === undefined) {
        errors.push({ path: [...path, 'wait', 'onTimeout'], message: 'onTimeout needs a timeout; add wait.timeout, e.g. 72h' });
      }
      if (step.wait.timeout !== undefined && step.wait.onTimeout === undefined) {
        warnings.push({ path: [...path, 'wait', 'timeout'], message: 'timeout without onTimeout: the run fails when the wait times out; name a step in wait.onTimeout to route it' });
      }
    }
    if ('choice' in step) {
      const branches = step.choice;
      const firstDefault = branches.findIndex((branch) => branch.when === undefined);
      if (firstDefault === -1) {
        warnings.push({ path: [...path, 'choice', branches.length - 1], message: 'no default branch: when no condition holds the run fails; add a last branch without when' });
      } else if (firstDefault < branches.length - 1) {
        warnings.push({ path: [...path, 'choice', firstDefault + 1], message: `branches after the default branch (choice[${firstDefault}], no when) are never taken` });
      }
    }
    errors.push(...stepExpressionIssues(step, path));
    expressions.push(...stepExpressions(step, path));
  }

  errors.push(...unknownStepRefs(expressions, ids));

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

/** The fields of a step that may hold expressions, with their paths under the step. */
function expressionFields(step: Workflow['steps'][string]): Array<[value: unknown, at: PathSegment[]]> {
  const fields: Array<[value: unknown, at: PathSegment[]]> = [];
  if ('claude' in step) fields.push([step.claude.context, ['claude', 'context']], [step.claude.prompt, ['claude', 'prompt']], [step.claude.system, ['claude', 'system']]);
  if ('analyze' in step) fields.push([step.analyze.context, ['analyze', 'context']], [step.analyze.prompt, ['analyze', 'prompt']], [step.analyze.system, ['analyze', 'system']]);
  if ('tool' in step) fields.push([step.with, ['with']]);
  if ('final' in step) fields.push([step.output, ['output']]);
  if ('choice' in step) {
    step.choice.forEach((branch, index) => {
      if (branch.when !== undefined) fields.push([`{%${unwrapExpression(branch.when)}%}`, ['choice', index, 'when']]);
    });
  }
  return fields;
}
