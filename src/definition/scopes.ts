/**
 * The definitions a workflow holds: its own, and the one each map body runs
 * (built as the engine builds it, see src/kinds/map-body.ts), at any depth (a
 * map in a body, a map in a branch). Each is a scope of its own: its step ids
 * and `$steps` are its own, its routes stay in it. The checks walk every
 * scope and report what they find in one at the place in the file it comes
 * from.
 */
import { kindOf } from '../kinds/index.js';
import type { PathSegment } from './locate.js';
import type { Workflow } from './schema.js';
import { allSteps, stepPath } from './sequences.js';

/** One definition of a workflow: the workflow itself (`owner` null), or the body of map step `owner`. */
export interface Scope {
  readonly workflow: Workflow;
  /** The map step whose body it is, or null for the workflow itself. */
  readonly owner: string | null;
  /** Where its paths sit in the file: a path `p` of its own is `[...at, ...p]`. */
  readonly at: readonly PathSegment[];
  /** Steps the engine adds to it: not the author's, so not checked nor named. */
  readonly added: ReadonlySet<string>;
}

const known = new WeakMap<Workflow, readonly Scope[]>();

/**
 * The workflow's scope first, then the map bodies, each before the bodies nested in it.
 * @example
 * for (const scope of scopesOf(workflow)) for (const [id] of ownSteps(scope)) console.log(located(scope, stepPath(scope.workflow, id)));
 */
export function scopesOf(workflow: Workflow): readonly Scope[] {
  const cached = known.get(workflow);
  if (cached) return cached;
  const scopes: Scope[] = [{ workflow, owner: null, at: [], added: new Set() }];
  for (let i = 0; i < scopes.length; i++) {
    const scope = scopes[i]!;
    for (const [id, step] of ownSteps(scope)) {
      const inline = kindOf(step)?.inline?.(id, step, scope.workflow);
      if (!inline) continue;
      scopes.push({ workflow: inline.workflow, owner: id, at: located(scope, [...stepPath(scope.workflow, id), ...inline.path]), added: new Set(inline.added) });
    }
  }
  known.set(workflow, scopes);
  return scopes;
}

/** The steps of a scope at any depth of its branches (not in the bodies it holds), without those the engine added. */
export function ownSteps(scope: Scope): Array<[string, Workflow['steps'][string]]> {
  return allSteps(scope.workflow).filter(([id]) => !scope.added.has(id));
}

/** A path of the scope's own, as a path in the file. */
export function located(scope: Scope, path: readonly PathSegment[]): PathSegment[] {
  return [...scope.at, ...path];
}

/** Whether a path of the scope's own is about a step the engine added (so nothing is said about it). */
export function aboutAdded(scope: Scope, path: readonly PathSegment[]): boolean {
  return path[0] === 'steps' && typeof path[1] === 'string' && scope.added.has(path[1]);
}
