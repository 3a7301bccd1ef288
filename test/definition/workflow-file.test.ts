/**
 * A `workflow` step whose `file:` names no file fails at load (and so at
 * `stepwise validate`), not when a run reaches the step: the issue names the
 * parent definition file, the line and column of the field and its path, and
 * the file looked for. Steps inside parallel branches and map bodies too; a
 * file that exists passes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinition } from '../../src/definition/load.js';
import { DefinitionError, formatIssue } from '../../src/errors.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli } from '../cli/helpers.js';
import { yaml } from './helpers.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function write(files: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), 'stepwise-child-file-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function issuesOf(file: string): Promise<string[]> {
  try {
    await loadDefinition(file);
    return [];
  } catch (error) {
    if (error instanceof DefinitionError) return error.issues.map(formatIssue);
    throw error;
  }
}

const child = yaml('id: child', 'steps:', '  done: { final: true, output: 1 }');

describe('workflow.file', () => {
  it('a missing file is an issue at the parent file, line:col, steps.<id>.workflow.file, naming the file looked for', async () => {
    const at = write({
      'parent.yaml': yaml(
        'id: parent', //                          1
        'steps:', //                              2
        '  sub:', //                              3
        '    workflow:', //                       4
        '      file: sub/missing.yaml', //        5
        '    next: done', //                      6
        '  done: { final: true }', //             7
      ),
    });
    const parent = join(at, 'parent.yaml');
    const issues = await issuesOf(parent);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(new RegExp(`^${parent.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:13: steps\\.sub\\.workflow\\.file: `));
    expect(issues[0]).toContain(join(at, 'sub', 'missing.yaml'));
    expect(issues[0]).not.toMatch(/ENOENT/);
  });

  it('inside a parallel branch and a map body, at their own paths', async () => {
    const at = write({
      'parent.yaml': yaml(
        'id: parent',
        'steps:',
        '  both:',
        '    parallel:',
        '      branches:',
        '        a:',
        '          steps:',
        '            run_a: { workflow: { file: nope-a.yaml } }',
        '    next: each',
        '  each:',
        '    map:',
        '      items: "{% [1, 2] %}"',
        '      steps:',
        '        run_b: { workflow: { file: nope-b.yaml } }',
        '    next: done',
        '  done: { final: true }',
      ),
    });
    const issues = await issuesOf(join(at, 'parent.yaml'));
    expect(issues.map((i) => i.replace(/^.*?parent\.yaml:/, ''))).toEqual([
      expect.stringMatching(/^8:40: steps\.both\.parallel\.branches\.a\.steps\.run_a\.workflow\.file: .*nope-a\.yaml/),
      expect.stringMatching(/^14:36: steps\.each\.map\.steps\.run_b\.workflow\.file: .*nope-b\.yaml/),
    ]);
  });

  it('a file that exists loads', async () => {
    const at = write({ 'parent.yaml': yaml('id: parent', 'steps:', '  sub: { workflow: { file: kids/child.yaml }, next: done }', '  done: { final: true }'), 'kids/child.yaml': child });
    expect(await issuesOf(join(at, 'parent.yaml'))).toEqual([]);
  });

  it('`stepwise validate` reports it and exits 1', { timeout: SPAWN_BUDGET_MS }, async () => {
    const at = write({ 'parent.yaml': yaml('id: parent', 'steps:', '  sub: { workflow: { file: gone.yaml }, next: done }', '  done: { final: true }') });
    const result = await cli(['validate', join(at, 'parent.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain(`${join(at, 'parent.yaml')}:3:28: steps.sub.workflow.file: `);
  });
});
