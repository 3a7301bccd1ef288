/**
 * A map body is checked as the definition its items run: every check made at
 * the top level and in parallel branches (routes, expression syntax, `$steps`
 * ids, variables and functions, tools, `with:` keys, reachability) applies to
 * its steps too, at any depth (a parallel in a body, a map in a branch, a map
 * in a map), each issue at the body step's own file:line:col and path. The
 * body's `$steps` are its own steps: not the workflow's, which cannot read
 * the body's either. Through the real loader, on files in a temp directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinition } from '../../src/definition/load.js';
import { DefinitionError, formatIssue } from '../../src/errors.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli } from '../cli/helpers.js';
import { yaml } from './helpers.js';

/** Tools `lookup` (input { id: string }) and `extract` (input { total: number }). */
const toolModule = resolve(fileURLToPath(new URL('fixtures/tools/lookup.ts', import.meta.url)));

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Writes `text` as flow.yaml in a new temp directory and loads it: its errors and warnings, with the file name cut to `flow.yaml`. */
async function check(text: string): Promise<{ errors: string[]; warnings: string[] }> {
  dir = mkdtempSync(join(tmpdir(), 'stepwise-map-body-'));
  const file = join(dir, 'flow.yaml');
  writeFileSync(file, text);
  const short = (issue: string) => issue.replace(file, 'flow.yaml');
  try {
    const loaded = await loadDefinition(file);
    return { errors: [], warnings: loaded.warnings.map((w) => short(formatIssue(w))) };
  } catch (error) {
    if (error instanceof DefinitionError) return { errors: error.issues.map((i) => short(formatIssue(i))), warnings: [] };
    throw error;
  }
}

describe('checks of a map body', () => {
  it('its expressions: syntax, $steps ids, misspelled variables and unknown functions, each at its line', async () => {
    const { errors } = await check(
      yaml(
        'id: w', //                                                                         1
        `tools: ${toolModule}`, //                                                          2
        'steps:', //                                                                        3
        '  each:', //                                                                       4
        '    map:', //                                                                      5
        '      items: "{% $input.xs %}"', //                                                6
        '      context: { tag: "{% $input.tag %}" }', //                                    7
        '      steps:', //                                                                  8
        '        a: { tool: lookup, with: { id: "{% $input.item + %}" } }', //              9
        '        b: { tool: lookup, with: { id: "{% $steps.nope.output %}" } }', //         10
        '        c: { tool: lookup, with: { id: "{% $inptu.item %}" } }', //                11
        '        d: { tool: lookup, with: { id: "{% $foo(1) %}" } }', //                    12
        '        e: { tool: lookup, with: { id: "{% $steps.a.output.id & $input.index & $input.tag %}" } }', // 13
        '    next: done', //                                                                14
        '  done: { final: true }', //                                                       15
      ),
    );
    expect(errors).toEqual([
      expect.stringMatching(/^flow\.yaml:9:\d+: steps\.each\.map\.steps\.a\.with\.id: /),
      expect.stringMatching(/^flow\.yaml:10:\d+: steps\.each\.map\.steps\.b\.with\.id: \$steps\.nope names no step "nope"; steps are: a, b, c, d, e$/),
      expect.stringMatching(/^flow\.yaml:11:\d+: steps\.each\.map\.steps\.c\.with\.id: \$inptu is not a variable; did you mean "\$input"\?$/),
      expect.stringMatching(/^flow\.yaml:12:\d+: steps\.each\.map\.steps\.d\.with\.id: \$foo\(\) is not a function of JSONata$/),
    ]);
  });

  it("its $steps are the body's own steps: a body step cannot read the workflow's, nor the workflow the body's", async () => {
    const { errors } = await check(
      yaml(
        'id: w', //                                                                         1
        `tools: ${toolModule}`, //                                                          2
        'steps:', //                                                                        3
        '  first: { tool: lookup, with: { id: x } }', //                                    4
        '  each:', //                                                                       5
        '    map:', //                                                                      6
        '      items: "{% $input.xs %}"', //                                                7
        '      steps:', //                                                                  8
        '        a: { tool: lookup, with: { id: "{% $steps.first.output.id %}" } }', //     9
        '    next: after', //                                                               10
        '  after: { tool: lookup, with: { id: "{% $steps.a.output.id %}" }, next: done }', // 11
        '  done: { final: true }', //                                                       12
      ),
    );
    expect(errors).toEqual([
      expect.stringMatching(/^flow\.yaml:9:\d+: steps\.each\.map\.steps\.a\.with\.id: \$steps\.first names no step "first"; steps are: a$/),
      expect.stringMatching(/^flow\.yaml:11:\d+: steps\.after\.with\.id: \$steps\.a names no step "a"/),
    ]);
  });

  it('a parallel step in a body: its branch steps\' tools, routes and $steps, at the branch step', async () => {
    const { errors } = await check(
      yaml(
        'id: w', //                                                                         1
        `tools: ${toolModule}`, //                                                          2
        'steps:', //                                                                        3
        '  each:', //                                                                       4
        '    map:', //                                                                      5
        '      items: "{% $input.xs %}"', //                                                6
        '      steps:', //                                                                  7
        '        inner:', //                                                                8
        '          parallel:', //                                                           9
        '            branches:', //                                                         10
        '              r:', //                                                              11
        '                steps:', //                                                        12
        '                  u: { tool: lookp, with: { id: "1" }, next: nowhere }', //        13
        '                  v: { tool: lookup, with: { id: "{% $steps.tt.output %}" }, next: inner }', // 14
        '    next: done', //                                                                15
        '  done: { final: true }', //                                                       16
      ),
    );
    expect(errors).toEqual([
      expect.stringMatching(/^flow\.yaml:13:\d+: steps\.each\.map\.steps\.inner\.parallel\.branches\.r\.steps\.u\.tool: step "u" uses tool "lookp", which is not provided; did you mean "lookup"\?/),
      expect.stringMatching(/^flow\.yaml:13:\d+: steps\.each\.map\.steps\.inner\.parallel\.branches\.r\.steps\.u\.next: "nowhere" is not a step of the map body; body steps are: inner, u, v$/),
      expect.stringMatching(/^flow\.yaml:14:\d+: steps\.each\.map\.steps\.inner\.parallel\.branches\.r\.steps\.v\.with\.id: \$steps\.tt names no step "tt"/),
      expect.stringMatching(/^flow\.yaml:14:\d+: steps\.each\.map\.steps\.inner\.parallel\.branches\.r\.steps\.v\.next: "inner" is a step of the map body; a route from "v" may only name steps of branch "r" \(u, v\)$/),
    ]);
  });

  it('a map in a map, and a map in a parallel branch: issues name the inner step, at its line', async () => {
    const { errors } = await check(
      yaml(
        'id: w', //                                                                         1
        `tools: ${toolModule}`, //                                                          2
        'steps:', //                                                                        3
        '  p:', //                                                                          4
        '    parallel:', //                                                                 5
        '      branches:', //                                                               6
        '        a:', //                                                                    7
        '          steps:', //                                                              8
        '            m:', //                                                                9
        '              map:', //                                                            10
        '                items: "{% $input.xs %}"', //                                      11
        '                steps:', //                                                        12
        '                  s: { tool: lookup, with: { id: "{% $input.item + %}" } }', //    13
        '    next: outer', //                                                               14
        '  outer:', //                                                                      15
        '    map:', //                                                                      16
        '      items: "{% $input.xs %}"', //                                                17
        '      steps:', //                                                                  18
        '        m2:', //                                                                   19
        '          map:', //                                                                20
        '            items: "{% $input.item %}"', //                                        21
        '            steps:', //                                                            22
        '              u: { tool: ecoh, with: { id: "{% $stepz %}" }, next: nowhere }', //  23
        '    next: done', //                                                                24
        '  done: { final: true }', //                                                       25
      ),
    );
    expect(errors).toEqual([
      expect.stringMatching(/^flow\.yaml:13:\d+: steps\.p\.parallel\.branches\.a\.steps\.m\.map\.steps\.s\.with\.id: /),
      expect.stringMatching(/^flow\.yaml:23:\d+: steps\.outer\.map\.steps\.m2\.map\.steps\.u\.tool: step "u" uses tool "ecoh", which is not provided/),
      expect.stringMatching(/^flow\.yaml:23:\d+: steps\.outer\.map\.steps\.m2\.map\.steps\.u\.with\.id: \$stepz is not a variable; did you mean "\$steps"\?$/),
      expect.stringMatching(/^flow\.yaml:23:\d+: steps\.outer\.map\.steps\.m2\.map\.steps\.u\.next: "nowhere" is not a step of the map body; body steps are: u$/),
    ]);
  });

  it("a claude step's with: keys are checked against the tool input in a body and in a branch", async () => {
    const { errors } = await check(
      yaml(
        'id: w', //                                                                         1
        `tools: ${toolModule}`, //                                                          2
        'steps:', //                                                                        3
        '  p:', //                                                                          4
        '    parallel:', //                                                                 5
        '      branches:', //                                                               6
        '        a:', //                                                                    7
        '          steps:', //                                                              8
        '            x: { claude: { tool: extract, prompt: "Extract.", with: { totl: 1 } } }', // 9
        '    next: each', //                                                                10
        '  each:', //                                                                       11
        '    map:', //                                                                      12
        '      items: "{% $input.xs %}"', //                                                13
        '      steps:', //                                                                  14
        '        y: { claude: { tool: lookup, prompt: "Look it up.", with: { idd: "1" } } }', // 15
        '    next: done', //                                                                16
        '  done: { final: true }', //                                                       17
      ),
    );
    expect(errors).toEqual([
      expect.stringMatching(/^flow\.yaml:9:\d+: steps\.p\.parallel\.branches\.a\.steps\.x\.claude\.with\.totl: "totl" is not a field of the input of tool extract/),
      expect.stringMatching(/^flow\.yaml:15:\d+: steps\.each\.map\.steps\.y\.claude\.with\.idd: "idd" is not a field of the input of tool lookup/),
    ]);
  });

  it('reachability in a body: an unreached body step is a warning at its line; a last-listed step that flows out ends the item (no issue)', async () => {
    const { errors, warnings } = await check(
      yaml(
        'id: w', //                                                                         1
        `tools: ${toolModule}`, //                                                          2
        'steps:', //                                                                        3
        '  each:', //                                                                       4
        '    map:', //                                                                      5
        '      items: "{% $input.xs %}"', //                                                6
        '      steps:', //                                                                  7
        '        a: { tool: lookup, with: { id: "1" }, next: c }', //                       8
        '        b: { tool: lookup, with: { id: "2" } }', //                                9
        '        c: { tool: lookup, with: { id: "{% $steps.a.output.id %}" } }', //         10
        '    next: done', //                                                                11
        '  done: { final: true }', //                                                       12
      ),
    );
    expect(errors).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/^flow\.yaml:9:\d+: steps\.each\.map\.steps\.b: step "b" is never reached from the start step "a"$/)]);
  });

  it('an unknown key in a body step or a branch step keeps its suggestion', async () => {
    const { errors } = await check(
      yaml(
        'id: w', //                                                                         1
        `tools: ${toolModule}`, //                                                          2
        'steps:', //                                                                        3
        '  p:', //                                                                          4
        '    parallel:', //                                                                 5
        '      branches:', //                                                               6
        '        a:', //                                                                    7
        '          steps:', //                                                              8
        '            s: { tool: lookup, with: { id: "1" }, nxt: done }', //                 9
        '    next: each', //                                                                10
        '  each:', //                                                                       11
        '    map:', //                                                                      12
        '      items: "{% $input.xs %}"', //                                                13
        '      steps:', //                                                                  14
        '        t: { tool: lookup, with: { id: "1" }, nxt: done }', //                     15
        '    next: done', //                                                                16
        '  done: { final: true }', //                                                       17
      ),
    );
    expect(errors).toEqual([
      expect.stringMatching(/^flow\.yaml:9:\d+: steps\.p\.parallel\.branches\.a\.steps\.s\.nxt: unknown key "nxt"; did you mean "next"\?$/),
      expect.stringMatching(/^flow\.yaml:15:\d+: steps\.each\.map\.steps\.t\.nxt: unknown key "nxt"; did you mean "next"\?$/),
    ]);
  });

  it('`stepwise validate` reports a bad route in a parallel inside a body and exits 1 (it passed before, and the run crashed)', { timeout: SPAWN_BUDGET_MS }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'stepwise-map-body-'));
    const file = join(dir, 'flow.yaml');
    writeFileSync(
      file,
      yaml(
        'id: w', //                                                                         1
        `tools: ${toolModule}`, //                                                          2
        'steps:', //                                                                        3
        '  m:', //                                                                          4
        '    map:', //                                                                      5
        '      items: "{% $input.xs %}"', //                                                6
        '      steps:', //                                                                  7
        '        inner:', //                                                                8
        '          parallel:', //                                                           9
        '            branches:', //                                                         10
        '              r:', //                                                              11
        '                steps:', //                                                        12
        '                  u: { tool: lookup, with: { id: "1" }, next: nowhere }', //       13
        '    next: done', //                                                                14
        '  done: { final: true }', //                                                       15
      ),
    );
    const result = await cli(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain(`${file}:13:63: steps.m.map.steps.inner.parallel.branches.r.steps.u.next: "nowhere" is not a step of the map body; body steps are: inner, u`);
  });
});
