/**
 * The on-disk cache of compiled TypeScript modules. Outputs are named by the
 * hash of their code, so they never change once written and modules that
 * import each other name each other's outputs; a manifest per entry file
 * names the entry's output and what it depends on (see fingerprint.ts).
 *
 * Where: `$STEPWISE_CACHE_DIR/ts` when set; otherwise
 * `node_modules/.cache/stepwise/ts` of the nearest directory above the entry
 * file that has a package.json and a node_modules, or else of this package.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { packageRoot } from '../../util/package-root.js';
import { ancestors, contentHash, type Dependency } from './fingerprint.js';

/** Bumped whenever the compiled form changes, so older cached outputs are not reused. */
const FORMAT = 1;

export interface Manifest {
  readonly format: number;
  /** The entry's compiled file, in the cache directory. */
  readonly output: string;
  readonly dependencies: readonly Dependency[];
}

export interface CompiledFile {
  readonly name: string;
  readonly code: string;
}

export function cacheDir(entry: string): string {
  const configured = process.env['STEPWISE_CACHE_DIR'];
  if (configured) return resolve(configured, 'ts');
  const project = ancestors(dirname(entry)).find((dir) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'node_modules')));
  return join(project ?? packageRoot, 'node_modules', '.cache', 'stepwise', 'ts');
}

/** The output's file name for compiled `code`. */
export function outputName(code: string): string {
  return `${contentHash(code)}.mjs`;
}

function manifestPath(dir: string, entry: string): string {
  return join(dir, `${contentHash(`${FORMAT}\0${entry}`)}.json`);
}

/** The entry's manifest, when there is one in the current format whose output exists. */
export function readManifest(dir: string, entry: string): Manifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(manifestPath(dir, entry), 'utf8')) as Manifest;
    if (manifest.format !== FORMAT || !existsSync(join(dir, manifest.output))) return undefined;
    return manifest;
  } catch {
    return undefined;
  }
}

/** Writes a file whole or not at all (a concurrent reader sees the old one or the new one). */
function writeAtomically(path: string, content: string): void {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
}

/**
 * Stores the compiled files, then the entry's manifest.
 *
 * @throws Error when the cache directory cannot be created or written.
 */
export function writeCompiled(dir: string, entry: string, files: readonly CompiledFile[], manifest: Omit<Manifest, 'format'>): void {
  mkdirSync(dir, { recursive: true });
  for (const file of files) {
    if (!existsSync(join(dir, file.name))) writeAtomically(join(dir, file.name), file.code);
  }
  writeAtomically(manifestPath(dir, entry), JSON.stringify({ format: FORMAT, ...manifest }));
}
