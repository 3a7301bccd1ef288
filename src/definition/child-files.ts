/**
 * The definition files that `workflow` steps name (`workflow.file`), checked
 * when the parent loads: a file that is not there is an issue at the parent's
 * file, line and field (`steps.<id>.workflow.file`), found by `validate`
 * instead of by a run that reaches the step. Steps in parallel branches and
 * map bodies are checked too. (A child named by `workflow.id` may come from
 * the engine's `workflows`, so only a run can tell whether it exists.)
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { DefinitionIssue } from '../errors.js';
import { issueMaker, type Locate, type PathSegment } from './locate.js';
import { nestedSteps } from './nested-steps.js';
import type { Workflow } from './schema.js';

/** Every `workflow.file` of the steps, nested ones included, with its path. */
export function childFiles(steps: Readonly<Record<string, object>>, path: readonly PathSegment[] = ['steps']): Array<{ path: PathSegment[]; file: string }> {
  return [...nestedSteps(steps, path)].flatMap((s) => (s.workflow?.file !== undefined ? [{ path: [...s.path, 'workflow', 'file'], file: s.workflow.file }] : []));
}

/** An issue for each `workflow.file` that names no file, resolved from `dir` (the parent definition's directory). */
export async function missingChildFileIssues(workflow: Workflow, dir: string, locate: Locate, file: string): Promise<DefinitionIssue[]> {
  const issue = issueMaker(file, locate);
  const issues: DefinitionIssue[] = [];
  for (const child of childFiles(workflow.steps as Readonly<Record<string, object>>)) {
    const target = resolve(dir, child.file);
    const found = await stat(target).then((s) => s.isFile(), () => false);
    if (!found) issues.push(issue(child.path, `no definition file ${target} (workflow.file is relative to this file's directory): fix the path, or name the workflow by id`));
  }
  return issues;
}
