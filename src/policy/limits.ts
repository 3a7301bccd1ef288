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
