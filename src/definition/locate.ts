/**
 * Where an issue is: the path of a field in a definition and a function that
 * maps it to a line and column of the source file. YAML sources locate through
 * their parsed nodes; TypeScript and in-memory definitions put every issue at 1:1.
 */
import type { DefinitionIssue } from '../errors.js';

/** One step of a path into a definition: an object key or an array index. */
export type PathSegment = string | number;

/** A 1-based line and column. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/**
 * Maps a path to a source position. `at: 'key'` asks for the key of the last
 * segment (used for unknown keys); the default is the value. A path that does
 * not exist in the source resolves to its deepest existing ancestor, so a
 * missing field points at the object that lacks it.
 */
export type Locate = (path: readonly PathSegment[], at?: 'key' | 'value') => Position;

/** A locator for sources without positions: everything is at 1:1. */
export const atStart: Locate = () => ({ line: 1, col: 1 });

/**
 * `['steps', 'route', 'choice', 0, 'when']` → `steps.route.choice[0].when`; a
 * key that is not a plain name (empty, with spaces or dots) is quoted, so the
 * path always names its field: `['steps', '']` → `steps[""]`.
 */
export function dotted(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (!/^[A-Za-z_$][\w$-]*$/.test(segment)) out += `[${JSON.stringify(segment)}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}

/** Builds issues for one file: `issue(path, message)` locates the path and formats it. */
export function issueMaker(file: string, locate: Locate) {
  return (path: readonly PathSegment[], message: string, at: 'key' | 'value' = 'value'): DefinitionIssue => ({
    file,
    ...locate(path, at),
    path: dotted(path),
    message,
  });
}

/** Errors and warnings found at field paths, as issues at `file`, each at its field's line. */
export function issuesAt(
  found: { readonly errors: ReadonlyArray<{ readonly path: readonly PathSegment[]; readonly message: string }>; readonly warnings: ReadonlyArray<{ readonly path: readonly PathSegment[]; readonly message: string }> },
  file: string,
  locate: Locate,
): { errors: DefinitionIssue[]; warnings: DefinitionIssue[] } {
  const issue = issueMaker(file, locate);
  return { errors: found.errors.map((f) => issue(f.path, f.message)), warnings: found.warnings.map((f) => issue(f.path, f.message)) };
}

/** Orders issues by line, then column, keeping the original order of ties. */
export function byPosition(issues: readonly DefinitionIssue[]): DefinitionIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}
