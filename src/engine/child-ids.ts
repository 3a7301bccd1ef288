/**
 * The ids of child runs and the check of a child's input: what the child-run
 * kinds need before a child exists, without the engine's driver.
 */
import { StepwiseError } from '../errors.js';
import type { Workflow } from '../definition/schema.js';
import { lazyAjv } from '../util/lazy-ajv.js';
import { plainSchemaAccepts } from '../util/plain-schema.js';

// Made at the first child run, not whenever the kinds load (validate, --help of run).
const ajv = lazyAjv();

/** What joins a parent's id to the rest of a child run's id: only child runs' ids hold it. */
const CHILD_MARK = '~';

/** The id of the child run a step starts: the parent's id, the step, its visit and, for a map item, the item's place. */
export function childIdOf(parentId: string, step: string, visit: number, item?: { index: number; round: number; attempt: number }): string {
  const base = `${parentId}${CHILD_MARK}${step}.${visit}`;
  return item ? `${base}.${item.index}${item.round > 0 || item.attempt > 1 ? `.${item.round}.${item.attempt}` : ''}` : base;
}

/**
 * Throws `usage` for a run id a caller chose (start, rerun) that holds the child mark: a run made under a child's id
 * would be taken for that child by the step that starts it (its output passed on as the child's).
 */
export function checkCallerRunId(runId: string): void {
  if (!runId.includes(CHILD_MARK)) return;
  throw new StepwiseError(
    'usage',
    `The run id "${runId}" holds "${CHILD_MARK}", which only the ids of child runs hold (<parent>${CHILD_MARK}<step>.<visit>): nothing was started. Use another id, or none for a new one.`,
  );
}

/** Throws `input_invalid` when `input` does not match the workflow's input schema. */
export async function checkChildInput(source: { readonly workflow: Workflow }, input: unknown): Promise<void> {
  const schema = source.workflow.input;
  // A plainly valid input needs no Ajv; Ajv decides (and words) everything else.
  if (!schema || plainSchemaAccepts(schema, input)) return;
  const validate = (await ajv()).compile(schema);
  if (validate(input)) return;
  const problems = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '(input)'} ${e.message ?? ''}`.trim());
  throw new StepwiseError('input_invalid', `the input of workflow "${source.workflow.id}" does not match its input schema: ${problems.join('; ')}`);
}

