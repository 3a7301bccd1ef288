/**
 * The README's composition snippets (every YAML block with a `parallel`,
 * `map` or `workflow` step) are complete definitions: each loads through the
 * real loader as if it were a file in definitions/ (its tool modules and child
 * definitions resolved from there), with no issue and no warning, within its
 * budget as `validate` bounds it, and holds the step kind it shows. A fragment (steps without `id:` and `steps:`) or a snippet naming a
 * tool or file that does not exist fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { worstCaseOf } from '../../src/cli/worst-case.js';
import { loadDefinitionText } from '../../src/definition/load.js';
import { kindOf } from '../../src/kinds/index.js';
import type { Workflow } from '../../src/definition/schema.js';
import { root } from '../engine/helpers.js';

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const composition = /^\s*(parallel|map|workflow):/gm;
/** The composition step kinds a snippet shows. */
const shows = (text: string) => [...text.matchAll(composition)].map((m) => m[1]!);
const snippets = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```/gm)]
  .map((m) => ({ text: m[1]!, line: readme.slice(0, m.index).split('\n').length + 1 }))
  .filter((s) => shows(s.text).length > 0);

/** The kinds of a workflow's steps, those inside parallel branches and map bodies included. */
function kinds(workflow: Pick<Workflow, 'steps'>): string[] {
  return Object.values(workflow.steps).flatMap((step) => {
    const own = kindOf(step as object)?.name ?? '?';
    const s = step as { parallel?: { branches: Record<string, Pick<Workflow, 'steps'>> }; map?: Pick<Workflow, 'steps'> };
    const inner = [...Object.values(s.parallel?.branches ?? {}), ...(s.map ? [s.map] : [])].flatMap(kinds);
    return [own, ...inner];
  });
}

describe('README composition snippets', () => {
  it('show a parallel, a workflow and a map step', () => {
    expect(new Set(snippets.flatMap((s) => shows(s.text)))).toEqual(new Set(['parallel', 'map', 'workflow']));
  });

  it.each(snippets.map((s) => [s.line, s] as const))('the snippet at README.md:%i is a complete, valid definition', async (_line, snippet) => {
    const loaded = await loadDefinitionText(snippet.text, join(root, 'definitions', `readme-${snippet.line}.yaml`));
    expect(loaded.workflow.id).toMatch(/\S/);
    for (const kind of shows(snippet.text)) expect(kinds(loaded.workflow)).toContain(kind);
    // As `stepwise validate` would print it: no warning, a bounded worst case within the budget.
    expect(loaded.warnings).toEqual([]);
    const bound = worstCaseOf(loaded);
    expect(bound.unbounded).toEqual([]);
    expect(bound.tokens).toBeLessThanOrEqual(bound.budget.limit);
  });
});
