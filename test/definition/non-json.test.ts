/**
 * A definition is JSON data: what is stored with a run and what a resume runs. YAML can write values JSON cannot
 * hold (`.nan`, `.inf`, `!!set`, `!!omap`, `!!binary`, `!!timestamp`); the loader refuses each at its line, before
 * the schema (a `!!binary` step gave 101 issues from walking a Buffer). Found by an outside tester: `.nan` passed
 * `validate`, the tool ran with NaN, and a resume ran it again with null; the two definitions shared one version hash.
 */
import { describe, expect, it } from 'vitest';
import { DefinitionError } from '../../src/errors.js';
import { definitionHash } from '../../src/definition/hash.js';
import { loadDefinitionFromObject, loadDefinitionText } from '../../src/definition/load.js';
import type { Workflow } from '../../src/definition/schema.js';
import { yaml } from './helpers.js';

async function issues(text: string): Promise<string[]> {
  const error = await loadDefinitionText(text, 'flow.yaml', { loadTools: false }).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DefinitionError);
  return (error as DefinitionError).message.split('\n');
}

const withValue = (value: string) => yaml('id: nonjson', 'steps:', '  pay:', '    tool: pay', `    with: { amount: ${value} }`, '  done: { final: true }');

describe('values JSON cannot hold', () => {
  it.each([
    // The column is the value's, after its tag.
    ['.nan', 'NaN', 21],
    ['.inf', 'Infinity', 21],
    ['-.inf', '-Infinity', 21],
    ['!!set { a, b }', 'a set (!!set)', 27],
    ['!!omap [ a: 1 ]', 'an ordered map (!!omap)', 28],
    ['!!binary aGVsbG8=', 'binary data (!!binary)', 30],
    ['!!timestamp 2024-01-02', 'a date (!!timestamp)', 33],
  ])('refuses %s at its line, naming the field', async (value, what, col) => {
    const found = await issues(withValue(value));
    expect(found).toEqual([`flow.yaml:5:${col}: steps.pay.with.amount: ${what} is not JSON, and a definition holds JSON data only`]);
  });

  it('refuses a whole step that is not JSON with one issue', async () => {
    expect(await issues(yaml('id: binary-step', 'steps:', '  a: !!binary aGVsbG8=', '  done: { final: true }'))).toEqual([
      'flow.yaml:3:15: steps.a: binary data (!!binary) is not JSON, and a definition holds JSON data only',
    ]);
  });

  it('lists every such value, in order', async () => {
    const text = yaml('id: two', 'budget: { tokens: .inf }', 'steps:', '  pay: { tool: pay, with: { a: .nan, b: [1, .inf] } }', '  done: { final: true }');
    expect(await issues(text)).toEqual([
      'flow.yaml:2:19: budget.tokens: Infinity is not JSON, and a definition holds JSON data only',
      'flow.yaml:4:32: steps.pay.with.a: NaN is not JSON, and a definition holds JSON data only',
      'flow.yaml:4:45: steps.pay.with.b[1]: Infinity is not JSON, and a definition holds JSON data only',
    ]);
  });

  it('loads the same definition written with JSON values', async () => {
    const loaded = await loadDefinitionText(withValue('null'), 'flow.yaml', { loadTools: false });
    expect(loaded.workflow.steps['pay']).toEqual({ tool: 'pay', with: { amount: null } });
  });

  it('refuses them in a definition given as an object', () => {
    const load = () => loadDefinitionFromObject({ id: 'obj', steps: { pay: { tool: 'pay', with: { amount: Number.NaN, when: new Date(0) } }, done: { final: true } } }, [], 'obj');
    expect(load).toThrow(DefinitionError);
    expect(load).toThrow('obj:1:1: steps.pay.with.amount: NaN is not JSON, and a definition holds JSON data only\nobj:1:1: steps.pay.with.when: a date (!!timestamp) is not JSON');
  });

  it('gives no version hash to a definition that is not JSON, so none shares the hash of its JSON twin', () => {
    const of = (amount: unknown) => ({ id: 'h', steps: { pay: { tool: 'pay', with: { amount } }, done: { final: true } } }) as unknown as Workflow;
    expect(definitionHash(of(null), [])).toMatch(/^[0-9a-f]{12}$/);
    expect(() => definitionHash(of(Number.NaN), [])).toThrow('steps.pay.with.amount: NaN is not JSON');
    expect(() => definitionHash(of(new Set([1])), [])).toThrow('steps.pay.with.amount: a set (!!set) is not JSON');
  });
});
