/**
 * Cycles of `workflow` steps found when a definition loads: a step every run
 * takes that starts the definition again (its file, its own id, or a file
 * that starts it back) is an error at the step's field; one a run can go
 * around (a choice, an onError route, a map body whose items may be none) is
 * a warning naming the depth limit. Steps in parallel branches count as taken
 * when the branch and its parallel step are.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinition, loadDefinitionFromObject } from '../../src/definition/load.js';
import { DefinitionError, formatIssue } from '../../src/errors.js';
import { yaml } from './helpers.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function write(files: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), 'stepwise-cycles-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The errors of loading `file`, else its warnings. */
async function found(file: string): Promise<{ errors: string[]; warnings: string[] }> {
  try {
    const loaded = await loadDefinition(file, { loadTools: false });
    return { errors: [], warnings: loaded.warnings.map(formatIssue) };
  } catch (error) {
    if (error instanceof DefinitionError) return { errors: error.issues.map(formatIssue), warnings: [] };
    throw error;
  }
}

describe('cycles of workflow steps', () => {
  it('a step in a parallel branch every run takes is on every path: an error at its field', async () => {
    const root = write({
      'p.yaml': yaml(
        'id: p',
        'steps:',
        '  both:',
        '    parallel:',
        '      branches:',
        '        left: { steps: { again: { workflow: { file: p.yaml } } } }',
        '        right: { steps: { idle: { wait: { on: { GO: fine } } }, fine: { final: true } } }',
        '    next: done',
        '  done: { final: true }',
      ),
    });
    const { errors } = await found(join(root, 'p.yaml'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/p\.yaml:6:53: steps\.both\.parallel\.branches\.left\.steps\.again\.workflow\.file: starts p\.yaml → p\.yaml on every run/);
  });

  it('a step that onError or a choice can go around, or in a map body, is a warning', async () => {
    const root = write({
      'around.yaml': yaml(
        'id: around',
        'steps:',
        '  check: { tool: probe, onError: done, next: again }',
        '  again: { workflow: { file: around.yaml }, next: done }',
        '  done: { final: true }',
      ),
      'body.yaml': yaml(
        'id: body',
        'steps:',
        '  each: { map: { items: "{% $input.xs %}", steps: { again: { workflow: { file: body.yaml } } } }, next: done }',
        '  done: { final: true }',
      ),
    });
    const around = await found(join(root, 'around.yaml'));
    expect(around.errors).toEqual([]);
    expect(around.warnings).toEqual([expect.stringMatching(/around\.yaml:4:\d+: steps\.again\.workflow\.file: starts around\.yaml → around\.yaml, a cycle of workflow steps: .*limits\.maxDepth \(8\)/)]);
    const body = await found(join(root, 'body.yaml'));
    expect(body.errors).toEqual([]);
    expect(body.warnings).toEqual([expect.stringMatching(/steps\.each\.map\.steps\.again\.workflow\.file: starts body\.yaml → body\.yaml/)]);
  });

  it('a chain is an error only when every link of it is taken on every run', async () => {
    const root = write({
      'a.yaml': yaml('id: a', 'steps:', '  call: { workflow: { file: b.yaml }, next: done }', '  done: { final: true }'),
      'b.yaml': yaml(
        'id: b',
        'steps:',
        '  go: { choice: [{ when: "{% $input.more %}", next: call }, { next: done }] }',
        '  call: { workflow: { file: a.yaml }, next: done }',
        '  done: { final: true }',
      ),
      'c.yaml': yaml('id: c', 'limits: { maxDepth: 3 }', 'steps:', '  call: { workflow: { file: a.yaml }, next: done }', '  done: { final: true }'),
    });
    const a = await found(join(root, 'a.yaml'));
    expect(a.errors).toEqual([]);
    expect(a.warnings).toEqual([expect.stringMatching(/steps\.call\.workflow\.file: starts a\.yaml → b\.yaml → a\.yaml, a cycle/)]);
    // c starts the cycle but is not on it: c loads clean (a and b carry the warnings).
    expect(await found(join(root, 'c.yaml'))).toEqual({ errors: [], warnings: [] });
  });

  it('a definition given as an object that starts its own id: an error when every run does, else a warning', () => {
    const load = (steps: Record<string, unknown>) => () => loadDefinitionFromObject({ id: 'me', steps }, [], 'me');
    expect(load({ again: { workflow: { id: 'me' }, next: 'done' }, done: { final: true } })).toThrow(/me:1:1: steps\.again\.workflow\.id: starts me → me on every run/);
    const loaded = load({
      go: { choice: [{ when: '{% $input.more %}', next: 'again' }, { next: 'done' }] },
      again: { workflow: { id: 'me' }, next: 'done' },
      done: { final: true },
    })();
    expect(loaded.warnings.map(formatIssue)).toEqual([expect.stringMatching(/^me:1:1: steps\.again\.workflow\.id: starts me → me, a cycle/)]);
  });
});
