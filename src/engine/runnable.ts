/**
 * Whether a child definition that reached the engine unchecked can run: a map
 * body (checked with its workflow only when that was loaded) or a definition
 * handed to `createEngine({ workflows })`. Its machine is compiled before any
 * run of it is made; one that cannot be compiled is refused with what the
 * definition checks find in it, so the step that would start it fails, rather
 * than the drive of its parent throwing with the run left `running`.
 */
import { checkWorkflow } from '../definition/check.js';
import { atStart, dotted, type PathSegment } from '../definition/locate.js';
import type { Workflow } from '../definition/schema.js';
import { stepPath } from '../definition/sequences.js';
import { validateWorkflow } from '../definition/validate.js';
import { DefinitionError, StepwiseError, type DefinitionIssue } from '../errors.js';
import type { StoredDefinition } from '../run/types.js';
import { messageOf } from '../util/error-message.js';
import { machineFor } from './runtime.js';

const SHOWN = 3;

/** Where the issues of a definition are found: in `workflow`, under step `step` (a map step, whose body it is), or in the whole of it. */
export interface IssuesIn {
  readonly workflow: Workflow;
  readonly step?: string;
}

/**
 * Compiles the definition (kept by version for the runs that follow).
 * @param explain where to look for what is wrong when it cannot be compiled (default: the definition itself).
 * @throws StepwiseError `definition_invalid` naming the fields at fault
 * (`steps.m.map.steps.u.next: "nowhere" is not a step of the map body`), else with the compiler's own message.
 * @example
 * assertRunnable(definition, version, { workflow: parent.workflow, step: 'each' }); // before an item of map `each` starts
 */
export function assertRunnable(definition: StoredDefinition, version: string, explain: IssuesIn = { workflow: definition.workflow }): void {
  try {
    machineFor(definition, version);
  } catch (error) {
    const issues = issuesIn(explain);
    const message = issues.length === 0 ? messageOf(error) : shortList(issues);
    throw new StepwiseError('definition_invalid', message, { cause: error });
  }
}

/** The errors the definition checks find in `where` (the semantic ones first: they hold for data the schema would also refuse for other reasons, e.g. a map body's dotted id). */
function issuesIn(where: IssuesIn): DefinitionIssue[] {
  const under = where.step === undefined ? [] : stepPath(where.workflow, where.step);
  const inside = (issue: DefinitionIssue) => isUnder(issue.path, under);
  try {
    const found = checkWorkflow(where.workflow, atStart, '').errors.filter(inside);
    if (found.length > 0) return found;
  } catch {
    // Data too malformed to check: what the schema says of it follows.
  }
  try {
    validateWorkflow(where.workflow, atStart, '');
  } catch (error) {
    if (error instanceof DefinitionError) return error.issues.filter(inside);
  }
  return [];
}

function isUnder(path: string, prefix: readonly PathSegment[]): boolean {
  const at = dotted(prefix);
  return at === '' || path === at || path.startsWith(`${at}.`) || path.startsWith(`${at}[`);
}

function shortList(issues: readonly DefinitionIssue[]): string {
  const shown = issues.slice(0, SHOWN).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
  return [...shown, ...(issues.length > SHOWN ? [`… and ${issues.length - SHOWN} more`] : [])].join('; ');
}
