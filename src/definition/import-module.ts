/**
 * Imports a user module by file path: TypeScript (`.ts`, `.mts`, `.cts`)
 * through tsx, so tool and workflow modules written in TS load from the
 * compiled CLI without a build step; JavaScript with a plain dynamic import.
 */
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const typescript = new Set(['.ts', '.mts', '.cts']);
const javascript = new Set(['.js', '.mjs', '.cjs']);

/** File extensions {@link importFile} accepts. */
export const moduleExtensions: readonly string[] = [...typescript, ...javascript];

/**
 * Imports the module at the absolute path `file` and returns its namespace.
 *
 * @throws Error when the extension is not a module extension, or the import fails.
 */
export async function importFile(file: string): Promise<Record<string, unknown>> {
  const ext = extname(file).toLowerCase();
  const url = pathToFileURL(file).href;
  if (typescript.has(ext)) return (await tsImport(url, { parentURL: import.meta.url })) as Record<string, unknown>;
  if (javascript.has(ext)) return (await import(url)) as Record<string, unknown>;
  throw new Error(`unsupported extension "${ext}"; use one of ${moduleExtensions.join(', ')}`);
}
