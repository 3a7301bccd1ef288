// Bundles the package's entry points from src/ into OUTDIR (default dist/) with
// esbuild, beside the declarations tsc emits there. One file per entry plus
// shared chunks (dist/chunks/) instead of ~200 modules of our own and ~250 of
// our dependencies: Node 20 spends most of a short command's start-up resolving,
// reading and compiling modules one by one (`stepwise validate` 0.84 s → 0.5 s).
// Entries share their chunks, so the CLI and a workflow module that imports
// `stepwise-engine` see one copy of each module (one step-kind registry, one
// error class). Left out (external): packages with native code, WebAssembly or
// files of their own, zod (a user's module may import it: one copy, so its
// schemas are ours), ajv (below) and devDependencies (bench only).
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = process.argv[2] ?? 'dist';
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
// ajv: its CommonJS exports lose their names through a bundled dynamic import() (`Ajv2020 is not a constructor`).
const own = ['better-sqlite3', 'pg', 'esbuild', 'tsx', '@viz-js/viz', 'zod', 'ajv'];
const external = [...own, ...Object.keys(pkg.devDependencies ?? {})].flatMap((name) => [name, `${name}/*`]);

// Every file package.json names (its exports and its bin), from its source; then the files run or imported by path.
const named = [...Object.values(pkg.exports).map((target) => (typeof target === 'string' ? target : target.default)), ...Object.values(pkg.bin)]
  .filter((target) => typeof target === 'string' && target.endsWith('.js'))
  .map((target) => target.replace(/^(\.\/)?dist\//, 'src/').replace(/\.js$/, '.ts'));
const byPath = [
  'src/bench/postgres-process.ts', // spawned by the PostgreSQL bench
  'src/bench/arm-process.ts', // spawned by the overhead head-to-head, one per arm
  'src/bench/readme.ts', // scripts/bench-table.mjs
  'src/definition/import-module.ts', // test/cli/ts-loader.test.ts
];

await build({
  entryPoints: [...new Set([...named, ...byPath])],
  outbase: 'src',
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  external,
  // CommonJS dependencies inside an ES module bundle call require() for Node's built-ins.
  banner: { js: "import { createRequire as __stepwiseRequire } from 'node:module'; const require = __stepwiseRequire(import.meta.url);" },
  logLevel: 'warning',
});
