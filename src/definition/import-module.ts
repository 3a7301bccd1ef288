/**
 * Imports a user module by file path: TypeScript (`.ts`, `.mts`, `.cts`)
 * from its cached esbuild compilation when it is an ES module
 * (ts-loader/), otherwise through tsx, so tool and workflow modules written
 * in TS load from the compiled CLI without a build step (esbuild or tsx is
 * loaded then, not before, and only when the cache cannot serve);
 * JavaScript with a plain dynamic import.
 */
import Module, { createRequire, register } from 'node:module';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isProvided, providedAs } from './provided.js';
import { importCompiled } from './ts-loader/index.js';
import { TypeScriptSyntaxError } from './ts-syntax-error.js';

const typescript = new Set(['.ts', '.mts', '.cts']);
const javascript = new Set(['.js', '.mjs', '.cjs']);

/**
 * Outside an ESM package (no `"type": "module"` above it) tsx loads a `.ts`
 * file as CommonJS, and its `export`s arrive wrapped in `default` (marked
 * `__esModule`): unwrap them so `export default defineWorkflow(...)` and named
 * tool exports are found either way.
 */
function esModuleExports(namespace: Record<string, unknown>): Record<string, unknown> {
  const inner = namespace['default'];
  if (typeof inner === 'object' && inner !== null && (inner as { __esModule?: unknown }).__esModule === true) {
    return inner as Record<string, unknown>;
  }
  return namespace;
}

/**
 * The ESM resolve hook, as source for `module.register` (a `data:` URL, so it
 * loads the same from `dist/` and from the TypeScript sources): resolution as
 * usual, and for a provided specifier nobody installed, resolution from here.
 */
const hooksSource = `
const isProvided = ${isProvided.toString()};
const providedAs = ${providedAs.toString()};
let fallbackParent = '';
export function initialize(data) { fallbackParent = data.parentURL; }
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (!fallbackParent || !isProvided(specifier) || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return nextResolve(providedAs(specifier), { ...context, parentURL: fallbackParent });
  }
}`;

let fallbacksInstalled = false;

/**
 * Lets user modules outside this package import `stepwise-engine` and `zod` without
 * installing them: ESM imports through a resolve hook, CommonJS `require`s
 * (tsx's mode outside an ESM package) through `Module._resolveFilename`. Their
 * own installed copies, when present, are used first.
 */
function installFallbacks(): void {
  if (fallbacksInstalled) return;
  fallbacksInstalled = true;
  register(`data:text/javascript,${encodeURIComponent(hooksSource)}`, { data: { parentURL: import.meta.url } });
  const ownRequire = createRequire(import.meta.url);
  const resolver = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = resolver._resolveFilename;
  resolver._resolveFilename = function resolveWithFallback(request: string, ...rest: unknown[]): string {
    try {
      return original.call(this, request, ...rest);
    } catch (error) {
      if (!isProvided(request) || (error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
      return ownRequire.resolve(providedAs(request));
    }
  };
}

/**
 * esbuild's "Transform failed with N error(s):" puts each error on a line of
 * its own, `file:line:col: ERROR: message` (the column counted from 0): read
 * back as a {@link TypeScriptSyntaxError}, which puts them on one line.
 */
function transformError(error: unknown): unknown {
  if (!(error instanceof Error) || !error.message.startsWith('Transform failed')) return error;
  const problems = error.message
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const at = /^(.*?):(\d+):(\d+): ERROR: (.*)$/.exec(line);
      return at ? { at: { file: resolve(at[1]!), line: Number(at[2]), col: Number(at[3]) + 1 }, text: at[4]! } : { text: line.replace(/^error: /, '') };
    });
  return problems.length ? new TypeScriptSyntaxError(problems, { cause: error }) : error;
}

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
  if (typescript.has(ext)) {
    // No loader hooks at all for an ES module the cache can serve: they would slow every later import.
    const compiled = await importCompiled(file);
    if (compiled) return compiled;
    installFallbacks();
    // tsx (and esbuild) load with the first TypeScript module, not with every definition.
    const { tsImport } = await import('tsx/esm/api');
    const namespace = await tsImport(url, { parentURL: import.meta.url }).catch((error: unknown) => {
      throw transformError(error);
    });
    return esModuleExports(namespace as Record<string, unknown>);
  }
  installFallbacks();
  if (javascript.has(ext)) return (await import(url)) as Record<string, unknown>;
  throw new Error(`unsupported extension "${ext}"; use one of ${moduleExtensions.join(', ')}`);
}
