/**
 * Loads an ES module written in TypeScript without tsx's loader hooks: from
 * its compiled form in the cache (see cache.ts) while what it was compiled
 * from holds, compiling it with esbuild (compile.ts) when not. Returns
 * undefined when the module is one to leave to tsx or the cache cannot be
 * written; the caller then loads it through tsx, as before.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheDir, readManifest, writeCompiled, type Manifest } from './cache.js';
import { compileModule, NotCompilable } from './compile.js';
import { dependenciesHold, type Dependency } from './fingerprint.js';

function unique(dependencies: readonly Dependency[]): Dependency[] {
  return [...new Map(dependencies.map((dependency) => [dependency.path, dependency])).values()];
}

async function compiledManifest(file: string, dir: string): Promise<Omit<Manifest, 'format'> | undefined> {
  const cached = readManifest(dir, file);
  if (cached && dependenciesHold(cached.dependencies)) return cached;
  let compilation;
  try {
    compilation = await compileModule(file, dir);
  } catch (error) {
    if (error instanceof NotCompilable) return undefined;
    throw error;
  }
  const manifest = { output: compilation.output, dependencies: unique(compilation.dependencies) };
  try {
    writeCompiled(dir, file, compilation.files, manifest);
  } catch {
    return undefined; // the cache cannot be written here: tsx loads the module instead
  }
  return manifest;
}

/**
 * The namespace of the TypeScript module at the absolute path `file`, or
 * undefined when tsx is to load it.
 *
 * @throws Error `TypeScript syntax error: file:line:col: ...` when it does not parse, or what evaluating it throws.
 */
export async function importCompiled(file: string): Promise<Record<string, unknown> | undefined> {
  const dir = cacheDir(file);
  const manifest = await compiledManifest(file, dir);
  if (!manifest) return undefined;
  // Stack traces through the compiled module point at the TypeScript source, as under tsx.
  process.setSourceMapsEnabled(true);
  return (await import(pathToFileURL(join(dir, manifest.output)).href)) as Record<string, unknown>;
}
