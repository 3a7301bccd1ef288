/**
 * Workflows by id from a definitions directory: `<dir>/<id>.yaml` (or .yml,
 * .json, .ts, .mts, .js, .mjs) when its id matches, else the file in the
 * directory whose definition has that id. A loaded definition is kept until
 * its file changes.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { loadDefinition, type LoadedDefinition } from '../definition/load.js';
import { ApiError } from './errors.js';

const extensions = ['.yaml', '.yml', '.json', '.ts', '.mts', '.js', '.mjs'];

export interface DefinitionCatalog {
  /** The definition of workflow `id`; 404 naming `workflow` when the directory has none. */
  get(id: string): Promise<LoadedDefinition>;
}

interface Cached {
  readonly file: string;
  readonly mtimeMs: number;
  readonly definition: LoadedDefinition;
}

async function mtimeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return undefined;
  }
}

export function definitionCatalog(dir: string): DefinitionCatalog {
  const root = resolve(dir);
  const cache = new Map<string, Cached>();

  async function tryFile(id: string, file: string): Promise<LoadedDefinition | undefined> {
    const mtimeMs = await mtimeOf(file);
    if (mtimeMs === undefined) return undefined;
    const cached = cache.get(id);
    if (cached && cached.file === file && cached.mtimeMs === mtimeMs) return cached.definition;
    const definition = await loadDefinition(file);
    if (definition.workflow.id !== id) return undefined;
    cache.set(id, { file, mtimeMs, definition });
    return definition;
  }

  return {
    async get(id) {
      const cached = cache.get(id);
      if (cached) {
        const found = await tryFile(id, cached.file).catch(() => undefined);
        if (found) return found;
        cache.delete(id);
      }
      for (const ext of extensions) {
        const found = await tryFile(id, join(root, `${id}${ext}`));
        if (found) return found;
      }
      // A file named otherwise: look through the directory (input files and broken definitions are skipped).
      const names = await readdir(root).catch(() => [] as string[]);
      for (const name of names.sort()) {
        if (!extensions.includes(extname(name)) || name.endsWith('.input.json') || name.endsWith('.d.ts')) continue;
        const found = await tryFile(id, join(root, name)).catch(() => undefined);
        if (found) return found;
      }
      throw new ApiError(404, 'workflow_not_found', `workflow: no definition with id "${id}" in the definitions directory`, 'workflow');
    },
  };
}
