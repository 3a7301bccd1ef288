/**
 * The sequences of steps of a workflow: its top-level steps, and the steps
 * nested in steps whose kind holds sequences of its own (the branches of a
 * `parallel` step, at any depth). Step ids are unique across the workflow, so
 * a step is found by its id alone wherever it sits ({@link stepOf}); routes
 * (`next`, `onError`, …) stay within the sequence that declares them.
 */
import { kindOf } from '../kinds/registry.js';
import { branchEndId } from '../kinds/branch-end.js';
import type { PathSegment } from './locate.js';
import type { Workflow } from './schema.js';

type Step = Workflow['steps'][string];

/** One sequence of steps: the workflow's own (`owner` null), or a branch `name` of step `owner`. */
export interface Sequence {
  readonly owner: string | null;
  readonly name: string;
  readonly steps: Readonly<Record<string, Step>>;
  readonly start: string | undefined;
  /** The path of `steps` in the definition. */
  readonly path: readonly PathSegment[];
}

/** A step id used a second time, at `path`; `first` is the path of its first use. */
export interface DuplicateStep {
  readonly id: string;
  readonly path: readonly PathSegment[];
  readonly first: readonly PathSegment[];
}

interface Index {
  readonly sequences: readonly Sequence[];
  /** Each step with its sequence and the step listed right after it there (undefined for the last). */
  readonly steps: ReadonlyMap<string, { readonly step: Step; readonly sequence: Sequence; readonly following: string | undefined }>;
  readonly duplicates: readonly DuplicateStep[];
}

const indexes = new WeakMap<Workflow, Index>();

function indexOf(workflow: Workflow): Index {
  const known = indexes.get(workflow);
  if (known) return known;
  const sequences: Sequence[] = [];
  const steps = new Map<string, { step: Step; sequence: Sequence; following: string | undefined }>();
  const duplicates: DuplicateStep[] = [];
  // Iterative, depth-first in the order steps are listed.
  const pending: Sequence[] = [{ owner: null, name: '', steps: workflow.steps, start: workflow.start, path: ['steps'] }];
  while (pending.length > 0) {
    const sequence = pending.shift()!;
    sequences.push(sequence);
    const nested: Sequence[] = [];
    const entries = Object.entries(sequence.steps);
    for (const [index, [id, step]] of entries.entries()) {
      const seen = steps.get(id);
      if (seen) duplicates.push({ id, path: [...sequence.path, id], first: [...seen.sequence.path, id] });
      else steps.set(id, { step, sequence, following: entries[index + 1]?.[0] });
      for (const inner of kindOf(step)?.sequences?.(step) ?? []) {
        nested.push({ owner: id, name: inner.name, steps: inner.steps, start: inner.start, path: [...sequence.path, id, ...inner.path] });
      }
    }
    pending.unshift(...nested);
  }
  const index = { sequences, steps, duplicates };
  indexes.set(workflow, index);
  return index;
}

/** Every sequence of the workflow, its own steps first. */
export function sequencesOf(workflow: Workflow): readonly Sequence[] {
  return indexOf(workflow).sequences;
}

/** The step `id`, wherever it sits (at the top level or in a branch). */
export function stepOf(workflow: Workflow, id: string): Step | undefined {
  return indexOf(workflow).steps.get(id)?.step;
}

/** Every step id of the workflow, nested ones included. */
export function stepIds(workflow: Workflow): string[] {
  return [...indexOf(workflow).steps.keys()];
}

/** Every step of the workflow with its id, nested ones included. */
export function allSteps(workflow: Workflow): Array<[string, Step]> {
  return [...indexOf(workflow).steps].map(([id, { step }]) => [id, step]);
}

/**
 * A test of whole workflows, "has a step, at any depth, that `matches`", worked out once per loaded workflow.
 * @example
 * const startsChildren = anyStep((step) => kindOf(step)?.name === 'map');
 * startsChildren(workflow); // true when some step (a branch's or a body's too) is a map
 */
export function anyStep(matches: (step: Step) => boolean): (workflow: Workflow) => boolean {
  const known = new WeakMap<Workflow, boolean>();
  return (workflow) => {
    let found = known.get(workflow);
    if (found === undefined) {
      found = allSteps(workflow).some(([, step]) => matches(step));
      known.set(workflow, found);
    }
    return found;
  };
}

/** The sequence step `id` belongs to. */
export function sequenceOf(workflow: Workflow, id: string): Sequence | undefined {
  return indexOf(workflow).steps.get(id)?.sequence;
}

/** The step listed right after step `id` in its sequence; undefined for the last one (and an unknown id). */
export function followingStep(workflow: Workflow, id: string): string | undefined {
  return indexOf(workflow).steps.get(id)?.following;
}

/** The path of step `id` in the definition, e.g. `['steps', 'checks', 'parallel', 'branches', 'vendor', 'steps', id]`. */
export function stepPath(workflow: Workflow, id: string): PathSegment[] {
  const sequence = sequenceOf(workflow, id);
  return sequence ? [...sequence.path, id] : ['steps', id];
}

/** Step ids used more than once. */
export function duplicateSteps(workflow: Workflow): readonly DuplicateStep[] {
  return indexOf(workflow).duplicates;
}

/** The first step of a sequence: its `start`, else the first one listed. */
export function startOf(sequence: Sequence): string {
  return sequence.start ?? Object.keys(sequence.steps)[0] ?? '';
}

/** Where a branch step that flows out of its branch goes: the end of its branch; undefined for a top-level step. */
export function sequenceEnd(workflow: Workflow, id: string): string | undefined {
  const sequence = sequenceOf(workflow, id);
  return sequence && sequence.owner !== null ? branchEndId(sequence.owner, sequence.name) : undefined;
}
