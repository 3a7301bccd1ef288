// After `npm ci` builds dist/, make the CLI callable as node_modules/.bin/stepwise inside this
// checkout too (npm links the bins of dependencies only, not the project's own).
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';

if (existsSync('node_modules') && existsSync('dist/cli/main.js')) {
  mkdirSync('node_modules/.bin', { recursive: true });
  rmSync('node_modules/.bin/stepwise', { force: true });
  symlinkSync('../../dist/cli/main.js', 'node_modules/.bin/stepwise');
  chmodSync('dist/cli/main.js', 0o755);
}
