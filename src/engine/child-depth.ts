/**
 * How deep child runs nest. A run may start child runs (a `workflow` step's
 * child, a `map` step's items) only down to `limits.maxDepth` levels below
 * the top-level run (default 8), the smallest limit of the run and of the runs
 * above it counting (a definition that sets none takes the one in force above it). Each child's link to its parent carries its depth and that
 * limit, so nothing is read from the store to count them; a step that would
 * start a child deeper fails with kind `loop` (a definition that starts itself,
 * directly or through others, without a condition that stops it).
 */
import type { Workflow } from '../definition/schema.js';
import { DEFAULT_MAX_DEPTH } from '../policy/limits.js';
import type { ParentLink, RunRecord } from '../run/types.js';
import type { RunScope } from './scope.js';

/** Where a run sits: its depth (0 for a top-level run) and the deepest level any run under it may be at. */
export interface Nesting {
  readonly depth: number;
  readonly maxDepth: number;
}

/** The nesting of a run with these options, running `workflow` (its definition, or a map item's body). */
export function nestingOf(options: RunRecord['options'], workflow: Workflow): Nesting {
  const link = options.parent;
  // A definition that sets no limit of its own (a child, a map item's body) takes the one in force above it.
  const above = link?.maxDepth;
  const own = workflow.limits?.maxDepth ?? above ?? DEFAULT_MAX_DEPTH;
  return { depth: link ? (link.depth ?? 1) : 0, maxDepth: above === undefined ? own : Math.min(own, above) };
}

/** The nesting of a run as its drive knows it (its record and workflow; a run its first commit creates is not yet in the store). */
export function nestingIn(run: Pick<RunScope, 'record' | 'workflow'>): Nesting {
  return nestingOf(run.record().options, run.workflow);
}

/** The link of a child of a run nested as `parent`: `link` with the child's depth and the limit in force. */
export function linkBelow(parent: Nesting, link: ParentLink): ParentLink {
  return { ...link, depth: parent.depth + 1, maxDepth: parent.maxDepth };
}

/**
 * Why step `step` of a run nested as `nesting` may start no child run, or null when it may: the child would be
 * deeper than the limit.
 *
 * @example
 * depthRefusal({ depth: 8, maxDepth: 8 }, 'again');
 * // 'step "again" would start a child run at depth 9, deeper than limits.maxDepth (8) allows: …'
 */
export function depthRefusal(nesting: Nesting, step: string): string | null {
  const depth = nesting.depth + 1;
  if (depth <= nesting.maxDepth) return null;
  return (
    `step "${step}" would start a child run at depth ${depth}, deeper than limits.maxDepth (${nesting.maxDepth}) allows: ` +
    'a definition that starts itself (directly or through other definitions) needs a condition that stops it, e.g. a choice before the step; ' +
    'raise limits.maxDepth if the nesting is meant'
  );
}

