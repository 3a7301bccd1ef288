/** `stepwise --help` and the README's command table agree: the same commands, each with the same options. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerCommands } from '../../src/cli/commands/index.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, root } from './helpers.js';

/** Each `stepwise <command>` row of the README's CLI table: its long options. */
function readmeTable(): Map<string, Set<string>> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The CLI'), readme.indexOf('\n## ', readme.indexOf('## The CLI') + 1));
  const rows = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const cell = /^\| `stepwise ([a-z-]+)(.*?)` \|/.exec(line);
    if (!cell) continue;
    rows.set(cell[1]!, new Set(cell[2]!.match(/--[a-z][a-z-]*/g) ?? []));
  }
  return rows;
}

/** The commands the CLI registers, each with its long options (without --help). */
function cliCommands(): Map<string, Set<string>> {
  const program = new Command();
  registerCommands(program, () => {});
  return new Map(program.commands.map((c) => [c.name(), new Set(c.options.map((o) => o.long).filter((l): l is string => l !== undefined && l !== '--help'))]));
}

describe('--help and the README', { timeout: SPAWN_BUDGET_MS }, () => {
  it('the README table has a row for every command, listing exactly its options', () => {
    const readme = readmeTable();
    const commands = cliCommands();
    expect([...readme.keys()].filter((k) => !k.startsWith('-')).sort()).toEqual([...commands.keys()].sort());
    for (const [name, options] of commands) {
      expect([...(readme.get(name) ?? [])].sort(), `README row of stepwise ${name}`).toEqual([...options].sort());
    }
  });

  it('stepwise --help lists the commands of the table, and shows defaults as values', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    const rows = [...readmeTable().keys()];
    for (const name of rows.filter((k) => !k.startsWith('-'))) expect(help.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    // The program's own options (--version) have rows of their own: `stepwise --version`.
    const globals = help.stdout.slice(help.stdout.indexOf('Options:'), help.stdout.indexOf('Commands:')).match(/--[a-z][a-z-]*/g) ?? [];
    expect(rows.filter((k) => k.startsWith('-')).sort()).toEqual(globals.filter((o) => o !== '--help').sort());
    const bench = await cli(['bench', '--help']);
    expect(bench.stdout).toContain('(default: 200)');
    expect(bench.stdout).not.toMatch(/\(default: "/);
  });

  it('prints every error with the one "stepwise:" prefix, the parser\'s too', async () => {
    const missing = await cli(['send', 'some-run']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^stepwise: missing required argument 'event'/);
    const unknown = await cli(['list', '--bogus']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^stepwise: unknown option '--bogus'/);
    const notFound = await cli(['show', 'no-such-run', '--store', 'memory']);
    expect(notFound.stderr).toMatch(/^stepwise: /);
    expect(notFound.stderr).not.toMatch(/^error:/m);
  });
});
