/**
 * This package's root directory (where `package.json` and `schema/` are),
 * found by walking up from this module's own location. A fixed `../..` would
 * not do: under tsx and vitest this module is `src/util/package-root.ts`, and
 * in the built package esbuild puts it in whichever file of `dist/` its
 * importers share, at a depth of its choosing.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function rootAbove(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

export const packageRoot: string = rootAbove(dirname(fileURLToPath(import.meta.url)));
