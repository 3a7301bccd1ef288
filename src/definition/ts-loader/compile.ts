/**
 * Compiles a TypeScript module, and the local TypeScript modules it imports,
 * with esbuild: each file to an ES module of its own (not a bundle, so a
 * module imported from two places is still one instance), types stripped,
 * and every import rewritten to the absolute URL Node would load for it from
 * the source file: a local TypeScript file to its compiled output, a package
 * to its file (resolved as Node resolves an ESM import, so `zod` is the very
 * module the engine uses), `stepwise-engine` and `zod` to this package's own
 * copies when the user's project does not install them. `import.meta.url`,
 * `filename` and `dirname` keep naming the source file, and an inline source
 * map points stack traces at it.
 *
 * Anything this does not reproduce exactly is refused with
 * {@link NotCompilable}, and the caller loads the module through tsx as
 * before: CommonJS files (`.cts`, or `.ts` outside a `"type": "module"`
 * package), `require`, `import()` of anything but a string literal,
 * `import.meta` other than `.url`, `.filename` and `.dirname`, import cycles, imports it
 * cannot resolve or of files other than TypeScript and packages' JavaScript.
 */
import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildFailure, Message, Plugin } from 'esbuild';
import { isProvided, providedAs } from '../provided.js';
import { TypeScriptSyntaxError } from '../ts-syntax-error.js';
import { outputName, type CompiledFile } from './cache.js';
import { ancestors, contentHash, nearest, type Dependency } from './fingerprint.js';

/** A module (or one it imports) that this compiler leaves to tsx. */
export class NotCompilable extends Error {
  override readonly name = 'NotCompilable';
}

export interface Compilation {
  /** The entry's output, a file name in the cache directory. */
  readonly output: string;
  readonly files: readonly CompiledFile[];
  readonly dependencies: readonly Dependency[];
}

const packageJavaScript = new Set(['.js', '.mjs', '.cjs']);
const inner = Symbol('resolving for stepwise');

/** esbuild's errors, each at its file, line and 1-based column (esbuild's columns start at 0). */
function syntaxError(failure: BuildFailure, cwd: string): Error {
  const problems = failure.errors.map((message: Message) => {
    const at = message.location;
    return at ? { at: { file: resolve(cwd, at.file), line: at.line, col: at.column + 1 }, text: message.text } : { text: message.text };
  });
  return new TypeScriptSyntaxError(problems, { cause: failure });
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

/** The `node_modules/<package>` directories Node looks in from `dir`: absent up to the one found, whose package.json counts. */
function packageDependencies(dir: string, specifier: string): Dependency[] {
  const dependencies: Dependency[] = [];
  for (const at of ancestors(dir)) {
    const candidate = join(at, 'node_modules', packageName(specifier));
    const manifest = nearest(candidate, 'package.json');
    if (manifest.path === join(candidate, 'package.json')) {
      dependencies.push(...manifest.dependencies.slice(0, 1));
      return dependencies;
    }
    dependencies.push({ path: candidate, exists: false });
  }
  return dependencies;
}

function isModuleScope(packageJson: string | undefined): boolean {
  if (!packageJson) return false;
  try {
    return (JSON.parse(readFileSync(packageJson, 'utf8')) as { type?: unknown }).type === 'module';
  } catch {
    return false;
  }
}

/**
 * Compiles `entry` and the local TypeScript it imports, for the cache directory `cacheDir`.
 *
 * @throws NotCompilable for a module tsx must load instead; Error (`TypeScript syntax error: file:line:col: ...`) when it does not parse.
 */
export async function compileModule(entry: string, cacheDir: string): Promise<Compilation> {
  const esbuild = await import('esbuild').catch((error: unknown) => {
    throw new NotCompilable('esbuild is not installed', { cause: error });
  });
  const cwd = process.cwd();
  const compiled = new Map<string, Promise<CompiledFile>>();
  // Who waits for whose compilation: esbuild resolves a file's imports concurrently, so an import cycle
  // would have two compilations wait for each other; it is found when its last edge is added.
  const waits = new Map<string, Set<string>>();
  const dependencies: Dependency[] = [];

  const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
    from === to || [...(waits.get(from) ?? [])].some((next) => !seen.has(next) && (seen.add(next), reaches(next, to, seen)));

  function compileFor(importer: string | undefined, file: string): Promise<CompiledFile> {
    if (importer !== undefined) {
      if (reaches(file, importer)) throw new NotCompilable(`${file} is part of an import cycle`);
      waits.set(importer, (waits.get(importer) ?? new Set()).add(file));
    }
    let compilation = compiled.get(file);
    if (!compilation) {
      compilation = compile(file);
      compiled.set(file, compilation);
    }
    return compilation;
  }

  async function compile(file: string): Promise<CompiledFile> {
    const source = readFileSync(file);
    dependencies.push({ path: file, hash: contentHash(source) });
    const ext = extname(file).toLowerCase();
    if (ext !== '.mts') {
      const scope = nearest(dirname(file), 'package.json');
      dependencies.push(...scope.dependencies);
      if (ext !== '.ts' || !isModuleScope(scope.path)) throw new NotCompilable(`${file} is not an ES module`);
    }
    dependencies.push(...nearest(dirname(file), 'tsconfig.json').dependencies);
    // import.meta is rewritten only as .url, .filename and .dirname, and only imports of a string literal are
    // rewritten: any other use would see the cache's file, or resolve from there.
    const text = source.toString('utf8');
    if (/\bimport\.meta(?!\.(?:url|filename|dirname)\b)|\brequire\s*[.(]|\bimport\s*\((?!\s*(['"])[^'"`]*\1\s*\))/.test(text)) {
      throw new NotCompilable(`${file} uses require, a computed import(), or import.meta other than its url, filename or dirname`);
    }

    let refused: Error | undefined;
    const refuse = (error: Error, path: string) => {
      refused ??= error;
      return { path, external: true };
    };
    const rewriteImports: Plugin = {
      name: 'stepwise-imports',
      setup(build) {
        build.onResolve({ filter: /.*/ }, async (args) => {
          if (args.kind === 'entry-point' || args.pluginData === inner) return undefined;
          if (args.kind !== 'import-statement' && args.kind !== 'dynamic-import') return refuse(new NotCompilable(`${args.kind} of ${args.path}`), args.path);
          if (isBuiltin(args.path)) return { path: args.path, external: true };
          const bare = !/^(\.|\/|file:)/.test(args.path);
          const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: inner });
          if (found.errors.length > 0 || found.external || !found.path) {
            if (!bare || !isProvided(args.path)) return refuse(new NotCompilable(`cannot resolve ${args.path} from ${args.importer}`), args.path);
            dependencies.push(...packageDependencies(args.resolveDir, args.path));
            return { path: import.meta.resolve(providedAs(args.path)), external: true };
          }
          const ext = extname(found.path).toLowerCase();
          const inPackage = found.path.split(sep).includes('node_modules');
          if (!inPackage && (ext === '.ts' || ext === '.mts' || ext === '.cts')) {
            try {
              return { path: pathToFileURL(join(cacheDir, (await compileFor(file, found.path)).name)).href, external: true };
            } catch (error) {
              return refuse(error as Error, args.path);
            }
          }
          if (bare && packageJavaScript.has(ext)) {
            dependencies.push(...packageDependencies(args.resolveDir, args.path), { path: found.path, exists: true });
            return { path: pathToFileURL(found.path).href, external: true };
          }
          return refuse(new NotCompilable(`${found.path} is neither TypeScript nor a package`), args.path);
        });
      },
    };

    const url = pathToFileURL(file).href;
    const result = await esbuild
      .build({
        entryPoints: [file],
        outfile: `${file}.stepwise.mjs`,
        absWorkingDir: cwd,
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'node',
        target: `node${process.versions.node}`,
        conditions: [],
        mainFields: ['main'],
        sourcemap: 'external',
        sourcesContent: false,
        logLevel: 'silent',
        define: {
          'import.meta.url': JSON.stringify(url),
          'import.meta.filename': JSON.stringify(file),
          'import.meta.dirname': JSON.stringify(dirname(file)),
        },
        plugins: [rewriteImports],
      })
      .catch((error: unknown) => {
        if (refused) throw refused;
        if (error && typeof error === 'object' && 'errors' in error) throw syntaxError(error as BuildFailure, cwd);
        throw error;
      });
    if (refused) throw refused;
    const code = result.outputFiles.find((out) => out.path.endsWith('.mjs'))?.text ?? '';
    const map = JSON.parse(result.outputFiles.find((out) => out.path.endsWith('.map'))?.text ?? '{}') as Record<string, unknown>;
    const inlineMap = Buffer.from(JSON.stringify({ ...map, sources: [url], sourceRoot: undefined })).toString('base64');
    const compiledText = `${code}//# sourceMappingURL=data:application/json;base64,${inlineMap}\n`;
    return { name: outputName(compiledText), code: compiledText };
  }

  const output = await compileFor(undefined, entry);
  return { output: output.name, files: await Promise.all(compiled.values()), dependencies };
}
