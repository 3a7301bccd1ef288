/**
 * What a compiled TypeScript module depends on beyond its own source, so a
 * cached compilation is reused only while all of it still holds: the content
 * of each source and config file it was built from, the files that must
 * still exist (resolved imports), and the places that must still be empty
 * (a nearer package.json, tsconfig.json or installed package would change
 * how the module compiles or resolves).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type Dependency =
  | { readonly path: string; readonly hash: string }
  | { readonly path: string; readonly exists: boolean };

export function contentHash(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** The file's content as a dependency, or that it must stay absent. */
export function fileDependency(path: string): Dependency {
  try {
    return { path, hash: contentHash(readFileSync(path)) };
  } catch {
    return { path, exists: false };
  }
}

/** Whether every dependency still holds. */
export function dependenciesHold(dependencies: readonly Dependency[]): boolean {
  return dependencies.every((dependency) => {
    if ('exists' in dependency) return existsSync(dependency.path) === dependency.exists;
    try {
      return contentHash(readFileSync(dependency.path)) === dependency.hash;
    } catch {
      return false;
    }
  });
}

/** The directories from `dir` up to the file system's root. */
export function ancestors(dir: string): string[] {
  const dirs = [dir];
  for (let parent = dirname(dir); parent !== dirs[dirs.length - 1]; parent = dirname(parent)) dirs.push(parent);
  return dirs;
}

/**
 * The nearest `name` at or above `dir` (its path, or undefined), and the
 * dependencies that keep it the nearest: absent nearer ones, its content.
 */
export function nearest(dir: string, name: string): { path: string | undefined; dependencies: Dependency[] } {
  const dependencies: Dependency[] = [];
  for (const at of ancestors(dir)) {
    const dependency = fileDependency(join(at, name));
    dependencies.push(dependency);
    if ('hash' in dependency) return { path: dependency.path, dependencies };
  }
  return { path: undefined, dependencies };
}
