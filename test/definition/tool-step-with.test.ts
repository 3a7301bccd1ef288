/**
 * A `tool` step's `with:` mapping is the whole tool input, so `validate` checks its keys against the tool's input
 * schema as it does a `claude` step's `with:`: a key the schema does not declare (and does not let through) and a
 * required field no key gives are errors at the field's file:line:col, a misspelt key with a did-you-mean. A `with:`
 * that is one expression making the whole input cannot be checked before the run; a step with no `with:` gets `{}`,
 * so each required field is an error at its `tool:`. Through the real loader on files
 * in a temp directory, and `stepwise validate`; the run the check now prevents failed `invalid_data` or lost the key.
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

/** Tools `toggle` ({ ok: boolean, label?: string, times = 1 }, a plain object), `strict` and `loose` ({ value: string }), `optional` ({ note?: string }). */
const toolModule = resolve(fileURLToPath(new URL('fixtures/tools/inputs.ts', import.meta.url)));

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function write(text: string): string {
  dir = mkdtempSync(join(tmpdir(), 'stepwise-tool-with-'));
  const file = join(dir, 'flow.yaml');
  writeFileSync(file, text);
  return file;
}

/** The errors and warnings of loading `text` as flow.yaml, the file name cut to `flow.yaml`. */
async function check(text: string): Promise<{ errors: string[]; warnings: string[] }> {
  const file = write(text);
  const short = (issue: string) => issue.replace(file, 'flow.yaml');
  try {
    const loaded = await loadDefinition(file);
    return { errors: [], warnings: loaded.warnings.map((w) => short(formatIssue(w))) };
  } catch (error) {
    if (error instanceof DefinitionError) return { errors: error.issues.map((i) => short(formatIssue(i))), warnings: [] };
    throw error;
  }
}

const flow = (...steps: string[]) => yaml('id: w', `tools: ${toolModule}`, 'steps:', ...steps, '  done: { final: true }');

describe("a tool step's with: keys", () => {
  it('a misspelt key is an error at its line with a did-you-mean, and the required field it misses is not reported twice', async () => {
    const { errors } = await check(flow('  a:', '    tool: toggle', '    with: { okk: true }', '    next: done'));
    expect(errors).toEqual([
      expect.stringMatching(/^flow\.yaml:6:\d+: steps\.a\.with\.okk: "okk" is not a field of the input of tool toggle; did you mean "ok"\? \(its fields: ok, label, times\)$/),
    ]);
  });

  it('a key a plain object schema would strip is an error (it never reached the tool)', async () => {
    const { errors } = await check(flow('  a:', '    tool: toggle', '    with:', '      ok: true', '      lable: x', '    next: done'));
    expect(errors).toEqual([expect.stringMatching(/^flow\.yaml:8:\d+: steps\.a\.with\.lable: "lable" is not a field of the input of tool toggle; did you mean "label"\?/)]);
  });

  it('a key a strict schema refuses is an error; a loose schema takes any key', async () => {
    const { errors } = await check(
      flow('  a: { tool: strict, with: { value: x, extra: 1 }, next: b }', '  b: { tool: loose, with: { value: x, extra: 1 }, next: done }'),
    );
    expect(errors).toEqual([expect.stringMatching(/^flow\.yaml:4:\d+: steps\.a\.with\.extra: "extra" is not a field of the input of tool strict \(its fields: value\)$/)]);
  });

  it('a required field no key gives is an error at with: (a field with a default is not required)', async () => {
    const { errors } = await check(flow('  a:', '    tool: toggle', '    with: { label: x }', '    next: done'));
    expect(errors).toEqual([expect.stringMatching(/^flow\.yaml:6:\d+: steps\.a\.with: the input of tool toggle requires "ok", which with: does not give$/)]);
  });

  it('a step with no with: at all (its input is {}) is an error at its tool: for each required field; a tool that requires none needs no with:', async () => {
    const { errors } = await check(
      flow(
        '  a:', //                                                            4
        '    tool: toggle', //                                                5
        '    next: b', //                                                     6
        '  b: { tool: strict, next: c }', //                                  7
        '  c: { tool: optional, next: done }', //                             8
      ),
    );
    expect(errors).toEqual([
      expect.stringMatching(/^flow\.yaml:5:\d+: steps\.a\.tool: the input of tool toggle requires "ok", which the step gives no with: for$/),
      expect.stringMatching(/^flow\.yaml:7:\d+: steps\.b\.tool: the input of tool strict requires "value", which the step gives no with: for$/),
    ]);
  });

  it('no with: in a map body or a parallel branch too, at the body step\'s own path', async () => {
    const { errors } = await check(
      flow('  p:', '    parallel:', '      branches:', '        a:', '          steps:', '            x: { tool: strict }', '    next: done'),
    );
    expect(errors).toEqual([expect.stringMatching(/^flow\.yaml:9:\d+: steps\.p\.parallel\.branches\.a\.steps\.x\.tool: the input of tool strict requires "value", which the step gives no with: for$/)]);
  });

  it('`stepwise validate` reports a step with no with: at file:line:col and exits 1 (it said ok, and every run failed invalid_data)', { timeout: SPAWN_BUDGET_MS }, async () => {
    const file = write(flow('  a:', '    tool: toggle', '    next: done'));
    const result = await cli(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain(`${file}:5:5: steps.a.tool: the input of tool toggle requires "ok", which the step gives no with: for`);
  });

  it('a with: that is one expression making the whole input is not checked; nor are the values of the keys', async () => {
    const { errors } = await check(flow('  a: { tool: toggle, with: "{% $input %}", next: b }', '  b: { tool: strict, with: { value: "{% $input.v %}" }, next: done }'));
    expect(errors).toEqual([]);
  });

  it('in a map body and a parallel branch too, at the body step\'s own path', async () => {
    const { errors } = await check(
      flow(
        '  p:', //                                                            4
        '    parallel:', //                                                   5
        '      branches:', //                                                 6
        '        a:', //                                                      7
        '          steps:', //                                                8
        '            x: { tool: strict, with: { valeu: x } }', //             9
        '    next: each', //                                                  10
        '  each:', //                                                         11
        '    map:', //                                                        12
        '      items: "{% $input.xs %}"', //                                  13
        '      steps:', //                                                    14
        '        y: { tool: toggle, with: { okk: true } }', //                15
        '    next: done', //                                                  16
      ),
    );
    expect(errors).toEqual([
      expect.stringMatching(/^flow\.yaml:9:\d+: steps\.p\.parallel\.branches\.a\.steps\.x\.with\.valeu: "valeu" is not a field of the input of tool strict; did you mean "value"\?/),
      expect.stringMatching(/^flow\.yaml:15:\d+: steps\.each\.map\.steps\.y\.with\.okk: "okk" is not a field of the input of tool toggle; did you mean "ok"\?/),
    ]);
  });

  it('`stepwise validate` reports the misspelt key at file:line:col and exits 1 (it said ok, and every run failed invalid_data)', { timeout: SPAWN_BUDGET_MS }, async () => {
    const file = write(flow('  a:', '    tool: toggle', '    with: { okk: true }', '    next: done'));
    const result = await cli(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain(`${file}:6:13: steps.a.with.okk: "okk" is not a field of the input of tool toggle; did you mean "ok"?`);
  });
});
