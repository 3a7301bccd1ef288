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

/**
 * Where `POST /api/runs` finds a workflow by id (`createServer(engine, { definitions })`): a definitions directory
 * ({@link definitionCatalog}) or a catalog of your own.
 *
 * @example
 * ```ts
 * const byId = new Map([[definition.workflow.id, definition]]);
 * createServer(engine, { tokens, definitions: { get: async (id) => byId.get(id) } });
 * ```
 */
export interface DefinitionCatalog {
  /**
   * The definition of workflow `id`, or `undefined` / `null` when there is none: the request is then answered 404
   * `workflow_not_found` naming `workflow`. Anything it throws is a 500 (its message in the server's log only).
   */
  get(id: string): Promise<LoadedDefinition | undefined | null>;
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

/** The catalog of a definitions directory; an id it has no definition for is a 404 naming `workflow` (thrown). */
export function definitionCatalog(dir: string): { get(id: string): Promise<LoadedDefinition> } {
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
