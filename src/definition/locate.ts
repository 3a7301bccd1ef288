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
 * missing field points at the object that lacks it. `offset`, for a string
 * value, asks for the place of that index of the string (a name in a
 * multi-line prompt); where the source cannot be followed that far (escapes),
 * the value's own place.
 */
export type Locate = (path: readonly PathSegment[], at?: 'key' | 'value', offset?: number) => Position;

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
  return (path: readonly PathSegment[], message: string, at: 'key' | 'value' = 'value', offset?: number): DefinitionIssue => ({
    file,
    ...locate(path, at, offset),
    path: dotted(path),
    message,
  });
}

/** A finding at a field path; `at`, for one inside a string, is where in the string. */
interface Found {
  readonly path: readonly PathSegment[];
  readonly message: string;
  readonly at?: number | undefined;
}

/** Errors and warnings found at field paths, as issues at `file`, each at its field's line. */
export function issuesAt(
  found: { readonly errors: readonly Found[]; readonly warnings: readonly Found[] },
  file: string,
  locate: Locate,
): { errors: DefinitionIssue[]; warnings: DefinitionIssue[] } {
  const issue = issueMaker(file, locate);
  const one = (f: Found) => issue(f.path, f.message, 'value', f.at);
  return { errors: found.errors.map(one), warnings: found.warnings.map(one) };
}

/** Orders issues by line, then column, keeping the original order of ties. */
export function byPosition(issues: readonly DefinitionIssue[]): DefinitionIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}
