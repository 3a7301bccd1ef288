/**
 * What a `map` step is: its schema (the body holds steps of any registered
 * kind, given by the caller so this module needs no registry) and the inline
 * definition its items run, made from the body.
 */
import { z } from 'zod';
import { maxVisits, Mapping, StepId } from '../definition/fields.js';
import type { Workflow } from '../definition/schema.js';

/** The default number of items that run at once. */
export const DEFAULT_MAX_CONCURRENCY = 4;

const Tolerated = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+(\.\d+)?%$/, 'a count, or a percentage such as "10%"')]);

/** The schema of a map step; `anyStep` is the schema of a body step (any registered kind). */
export function mapStepSchema(anyStep: () => z.ZodType) {
  return z.strictObject({
    description: z.string().optional(),
    next: StepId.optional().describe('Step to go to after this one'),
    onError: StepId.optional().describe('Step to go to when the map fails (more items failed than tolerated)'),
    maxVisits,
    map: z.strictObject({
      items: Mapping.describe('An expression yielding the array to map over, e.g. "{% $input.lines %}"'),
      as: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional().describe('The name of the item in the body\'s $input (default item)'),
      context: z.record(z.string(), Mapping).optional().describe('Values of this run every item\'s $input carries beside the item and its index'),
      steps: z.record(StepId, z.lazy(anyStep)).refine((s) => Object.keys(s).length > 0, 'at least one step').describe('The body: steps run for each item, any kinds'),
      start: StepId.optional().describe('First body step (default: the first one listed)'),
      maxConcurrency: z.number().int().positive().optional().describe(`Items that run at once (default ${DEFAULT_MAX_CONCURRENCY})`),
      retry: z.strictObject({ maxAttempts: z.number().int().min(1) }).optional().describe('Runs an item may take: a failed item is run again (a new child run) up to this many times'),
      toleratedFailures: Tolerated.optional().describe('Failed items the map tolerates: a count or a percentage of the items ("10%"); default 0'),
      maxItems: z.number().int().positive().optional().describe('The most items the map accepts (the worst-case bound uses it); more fail the step'),
    }),
  });
}

export type MapSpec = z.infer<ReturnType<typeof mapStepSchema>>;

/**
 * The id of the step added after a body's last-listed step when that step is not a final one: as a parallel
 * branch ends when its last step flows out, the item then ends with that step's output (whether or not other
 * routes of the body end at final steps of their own).
 */
const ITEM_DONE = 'item_done';

/** The inline definition of a map body: the body's steps (ended by a final step if the last listed is not one), the parent's model, max tokens, progress summary, retry, limits, breaker and prompt caching. */
export function bodyWorkflow(parent: Workflow, id: string, spec: MapSpec, isFinal: (step: object) => boolean): Workflow {
  const steps: Record<string, Workflow['steps'][string]> = { ...(spec.map.steps as Workflow['steps']) };
  const ids = Object.keys(steps);
  if (!isFinal(steps[ids[ids.length - 1]!]!)) {
    let done = ITEM_DONE;
    while (steps[done]) done = `${done}_`;
    steps[done] = { final: true, output: `{% $steps.${ids[ids.length - 1]}.output %}` };
  }
  return {
    id: `${parent.id}.${id}`,
    ...(parent.model !== undefined ? { model: parent.model } : {}),
    ...(parent.maxTokens !== undefined ? { maxTokens: parent.maxTokens } : {}),
    ...(parent.summary !== undefined ? { summary: parent.summary } : {}),
    ...(parent.retry !== undefined ? { retry: parent.retry } : {}),
    ...(parent.limits !== undefined ? { limits: parent.limits } : {}),
    ...(parent.breaker !== undefined ? { breaker: parent.breaker } : {}),
    ...(parent.cache !== undefined ? { cache: parent.cache } : {}),
    ...(spec.map.start !== undefined ? { start: spec.map.start } : {}),
    steps,
  };
}

