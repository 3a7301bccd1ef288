/**
 * The end of a branch: the final state of its region, where a branch step
 * without `next` that is listed last goes. Its name cannot be a step id
 * (step ids have no `$` or `:`), so it never clashes with a step.
 */

/** The id of the end state of branch `branch` of step `owner`. */
export function branchEndId(owner: string, branch: string): string {
  return `$end:${owner}:${branch}`;
}
