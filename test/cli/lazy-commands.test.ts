/**
 * CLI start-up stays small: a command module only declares its flags and
 * imports what that takes; the code that runs it (the engine, stores, the
 * SDK, the query layer) is imported when the command runs. A value import
 * of anything heavier in src/cli/commands would load it for every command,
 * `--help` included (the bench's start-up section measures the effect).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '../../src/cli/commands');
/** What a command module may import as a value: flag declarations and small constant tables. */
const allowed = [/^commander$/, /^\.\/[\w-]+\.js$/, /^\.\.\/flags\.js$/, /^\.\.\/help\.js$/, /^\.\.\/\.\.\/run\/types\.js$/, /^\.\.\/\.\.\/observe\/diagram-formats\.js$/];

describe('command modules load lazily', () => {
  it('import only flags and constants as values; their actions come by dynamic import', () => {
    const heavy: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      for (const match of text.matchAll(/^import (?!type )[^;]*? from '([^']+)';/gms)) {
        if (!allowed.some((pattern) => pattern.test(match[1]!))) heavy.push(`${file}: ${match[1]}`);
      }
    }
    expect(heavy).toEqual([]);
  });
});
