/**
 * Vitest global set-up: the CLI tests spawn the built `dist/cli/main.js`, so
 * rebuild once when any file under `src/` is newer than it. Several test runs
 * may share the tree, and some spawn the CLI while another builds: so build
 * under a lock into a scratch directory and swap it in whole, never leaving
 * `dist/` half-written or deleted for longer than two renames.
 *
 * It also names this run for the PostgreSQL tests (test/pg.ts) and, at the end,
 * fails the run (exit code 1) if any schema the run created is still on the
 * server, after dropping it so nothing accumulates.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { dropSchemas, leftSchemas } from './pg.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const cli = join(root, 'dist', 'cli', 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export const isStale = (): boolean => !existsSync(cli) || newestMtime(join(root, 'src')) > statSync(cli).mtimeMs;

// Re-checked under the lock: another run may just have built. tsc still emits declarations on type
// errors (someone's work in progress) and esbuild bundles without type-checking, so the build is used
// when the CLI entry exists. The same steps as `npm run build`.
const build = `
set -u
if [ -f dist/cli/main.js ] && [ -z "$(find src -newer dist/cli/main.js -type f -print -quit)" ]; then exit 0; fi
mkdir -p node_modules/.cache
tmp=$(mktemp -d node_modules/.cache/stepwise-dist-XXXXXX)
node_modules/.bin/tsc -p tsconfig.build.json --emitDeclarationOnly --outDir "$tmp" >&2
node scripts/bundle.mjs "$tmp" >&2 || { rm -rf "$tmp"; exit 1; }
if [ ! -f "$tmp/cli/main.js" ]; then rm -rf "$tmp"; exit 1; fi
chmod +x "$tmp/cli/main.js"
old=node_modules/.cache/stepwise-dist-old-$$
if [ -d dist ]; then mv dist "$old"; fi
mv "$tmp" dist
rm -rf "$old"
`;

function buildIfStale(): void {
  if (!isStale()) return;
  try {
    execFileSync('flock', ['/tmp/stepwise-build.lock', 'bash', '-c', build], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw new Error(`global-setup: building dist/ failed\n${String((error as { stderr?: unknown }).stderr ?? error)}`);
  }
}

export default function setup(project: TestProject): () => Promise<void> {
  buildIfStale();
  const run = randomBytes(4).toString('hex');
  project.provide('stepwiseTestRun', run);
  return async function teardown() {
    const left = await leftSchemas(run);
    if (left.length === 0) return;
    await dropSchemas(left);
    // Vitest only logs a teardown error; the exit code is what fails the run.
    process.exitCode = 1;
    throw new Error(`the tests left ${left.length} PostgreSQL schema(s) behind (dropped now): ${left.join(', ')}. Name schemas with testSchemas() from test/pg.ts, which drops them after each file.`);
  };
}
