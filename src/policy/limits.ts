/** Visit and loop limits of a workflow, with their defaults. */
import type { Limits } from '../definition/schema.js';
import type { z } from 'zod';

/** Limits with every field set. */
export interface ResolvedLimits {
  /** Visits allowed per step in one run. */
  readonly maxVisits: number;
  /** Equal or near-equal tool inputs allowed from one step before it is stopped as a loop. */
  readonly repeatedInputs: number;
}

/** Levels of child runs below the top-level run when no definition above says otherwise (`limits.maxDepth`). */
export const DEFAULT_MAX_DEPTH = 8;

/**
 * The largest `limits.maxDepth` a definition may set: the walks down and up a tree of runs (what the runs below a
 * step spent, the top-level run of a child) stop at 64 levels.
 */
export const MAX_DEPTH_CEILING = 64;

/** The limits when a definition says nothing: 10 visits per step, 3 repeated inputs. */
export const limitDefaults: ResolvedLimits = { maxVisits: 10, repeatedInputs: 3 };

/**
 * Fills in the workflow's `limits`; a step's own `maxVisits` wins over the workflow's.
 *
 * @example
 * resolveLimits(workflow.limits, step.maxVisits); // { maxVisits: 10, repeatedInputs: 3 }
 */
export function resolveLimits(limits?: z.infer<typeof Limits>, stepMaxVisits?: number): ResolvedLimits {
  return {
    maxVisits: stepMaxVisits ?? limits?.maxVisits ?? limitDefaults.maxVisits,
    repeatedInputs: limits?.repeatedInputs ?? limitDefaults.repeatedInputs,
  };
}
