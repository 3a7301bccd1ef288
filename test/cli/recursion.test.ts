/**
 * End to end: definitions whose `workflow` steps start each other in a cycle.
 * `validate` reports a cycle every run must go round (a step on every path to
 * a final step starts the definition again, itself or through other files) as
 * an error at the step's file, line and field, and `run` refuses it; a cycle a
 * choice can leave is a warning, and a run of it ends at the engine's depth
 * limit (`limits.maxDepth`) with kind `loop` instead of nesting without end.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, lastJson, tempDir } from './helpers.js';

const input = 'input: { type: object, required: [d], properties: { d: { type: number } } }';

/** The outside tester's definition: it starts itself on every run. */
function selfRecursive(dir: string): string {
  const file = join(dir, 'r1-self.yaml');
  writeFileSync(
    file,
    ['id: r1-self', input, 'steps:', '  again:', '    workflow: { file: r1-self.yaml, input: { d: "{% $input.d + 1 %}" } }', '    next: done', '  done: { final: true }', ''].join('\n'),
  );
  return file;
}

describe.concurrent('workflow steps that recurse', { timeout: SPAWN_BUDGET_MS }, () => {
  it('validate: a definition that starts itself on every path is an error at its workflow.file line', async () => {
    const file = selfRecursive(tempDir());
    const result = await cli(['validate', file]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:23: steps\\.again\\.workflow\\.file: `));
    expect(lines[0]).toContain('r1-self.yaml → r1-self.yaml');
    expect(lines[0]).toContain('every run');
  });

  it('validate: two files that start each other are both errors, each at its own step', async () => {
    const dir = tempDir();
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(a, ['id: a', 'steps:', '  call: { workflow: { file: b.yaml }, next: done }', '  done: { final: true }', ''].join('\n'));
    writeFileSync(b, ['id: b', 'steps:', '  call:', '    workflow: { file: ./a.yaml }', '    next: done', '  done: { final: true }', ''].join('\n'));
    // Given both: a definition that fails to load names no children for validate to follow.
    const result = await cli(['validate', a, b]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/a\.yaml:3:\d+: steps\.call\.workflow\.file: .*a\.yaml → b\.yaml → a\.yaml/);
    expect(lines[1]).toMatch(/b\.yaml:4:\d+: steps\.call\.workflow\.file: .*b\.yaml → a\.yaml → b\.yaml/);
  });

  it('validate: a recursion a choice decides on is a warning naming the depth limit; the definition is valid', async () => {
    const dir = tempDir();
    const file = join(dir, 'countdown.yaml');
    writeFileSync(
      file,
      [
        'id: countdown',
        input,
        'steps:',
        '  go:',
        '    choice:',
        '      - when: "{% $input.d > 0 %}"',
        '        next: again',
        '      - next: done',
        '  again: { workflow: { file: countdown.yaml, input: { d: "{% $input.d - 1 %}" } }, next: done }',
        '  done: { final: true }',
        '',
      ].join('\n'),
    );
    const result = await cli(['validate', file]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ok /);
    expect(result.stderr).toMatch(/warning .*countdown\.yaml:9:\d+: steps\.again\.workflow\.file: .*countdown\.yaml → countdown\.yaml/);
    expect(result.stderr).toContain('limits.maxDepth (8)');
  });

  it('run refuses a definition that starts itself on every path, and creates no run', async () => {
    const dir = tempDir();
    const file = selfRecursive(dir);
    const result = await cli(['run', file, '--input', '{"d":0}', '--emulator', '--store', `sqlite:${join(dir, 's.db')}`]);
    expect(result.code).toBe(1);
    expect(result.stderr + result.stdout).toMatch(/r1-self\.yaml:5:23: steps\.again\.workflow\.file: /);
    const list = await cli(['list', '--children', '--json', '--store', `sqlite:${join(dir, 's.db')}`]);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  it('run of a recursion that goes too deep ends failed with kind loop at the depth limit', async () => {
    const dir = tempDir();
    const file = join(dir, 'deep.yaml');
    writeFileSync(
      file,
      [
        'id: deep',
        input,
        'limits: { maxDepth: 3 }',
        'steps:',
        '  go: { choice: [{ when: "{% $input.d < 1000 %}", next: again }, { next: done }] }',
        '  again: { workflow: { file: deep.yaml, input: { d: "{% $input.d + 1 %}" } }, next: done }',
        '  done: { final: true }',
        '',
      ].join('\n'),
    );
    const store = ['--store', `sqlite:${join(dir, 's.db')}`];
    const result = await cli(['run', file, '--input', '{"d":0}', '--json', '--emulator', ...store]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    const run = lastJson(result.stdout);
    expect(run.status).toBe('failed');
    expect(run.failure?.kind).toBe('loop');
    expect(run.failure?.message).toMatch(/depth 4/);
    const list = await cli(['list', '--children', '--json', ...store]);
    expect(JSON.parse(list.stdout)).toHaveLength(4);
  });
});
