/**
 * A tool module that throws while it loads is reported with credentials in its message hidden, as a tool's error at
 * run time is. Found by an outside tester: an `sk-ant-…` key was printed whole by `validate` and `run`.
 */
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DefinitionError } from '../../src/errors.js';
import { loadDefinition } from '../../src/definition/load.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => relative(process.cwd(), join(here, 'fixtures', name));

async function failure(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DefinitionError);
  return (error as DefinitionError).message.split('\n');
}

describe('a tool module that throws while it loads', () => {
  it('is reported with its credentials hidden', async () => {
    const found = await failure(loadDefinition(fixture('load-secret.yaml')));
    expect(found).toEqual([`${fixture('load-secret.yaml')}:2:8: tools: cannot load tool module ./tools/load-secret.ts: cannot connect with key ***, password=***`]);
  });
});
