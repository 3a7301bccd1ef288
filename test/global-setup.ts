/**
 * Vitest global set-up: the CLI tests spawn the built `dist/cli/main.js`, so
 * rebuild once when any file under `src/` is newer than it. A lock file keeps
 * concurrent test runs from building over each other.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export default function setup(): void {
  if (!isStale()) return;
  // Under the lock, build only if nobody else just did.
  const script = `if node -e "process.exit(require('fs').existsSync('${cli}') ? 0 : 1)" && [ -z "$(find src -newer '${cli}' -type f -print -quit)" ]; then exit 0; fi; npm run build`;
  try {
    execFileSync('flock', ['/tmp/stepwise-build.lock', 'bash', '-c', script], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    // tsc still emits on type errors; the CLI tests can run on that output.
    if (!existsSync(cli)) throw error;
    process.stderr.write(`global-setup: npm run build reported errors; testing the emitted dist/ anyway\n${String((error as { stderr?: unknown }).stderr ?? '')}\n`);
  }
}
