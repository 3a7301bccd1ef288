/**
 * A tool a step cannot call with the object its input always is (the Messages API requires an object
 * `input_schema`; a tool step's `with:` makes an object) is refused at the step that uses it. Found by an outside
 * tester: a tool with `input: z.string()` passed `validate`, then its `claude` step failed with a 400 from the model.
 */
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DefinitionError } from '../../src/errors.js';
import { loadDefinition, loadDefinitionFromObject } from '../../src/definition/load.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => relative(process.cwd(), join(here, 'fixtures', name));

async function failure(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DefinitionError);
  return (error as DefinitionError).message.split('\n');
}

describe('a tool whose input is not an object', () => {
  it('refuse a tool whose input is not an object where a step uses it', async () => {
    const file = fixture('string-input.yaml');
    expect(await failure(loadDefinition(file))).toEqual([
      `${file}:5:15: steps.ask.claude.tool: tool "shout" takes a string, not an object: a claude step's tool needs an object input schema (input: z.object({...})), as the Messages API requires`,
      `${file}:7:15: steps.any.claude.tool: tool "anything" has no object input schema: a claude step's tool needs an object input schema (input: z.object({...})), as the Messages API requires`,
      `${file}:8:13: steps.direct.tool: tool "shout" takes a string, not an object: a tool step calls it with the object its with: mapping makes`,
    ]);
  });

  it('refuse it in a definition given as an object too', () => {
    const shout = defineTool({ name: 'shout', description: 'Takes a string', input: z.string() as never, run: () => null }) as AnyTool;
    expect(() => loadDefinitionFromObject({ id: 'o', steps: { ask: { claude: { tool: 'shout', prompt: 'Hi.' } }, done: { final: true } } }, [shout], 'o')).toThrow(
      'o:1:1: steps.ask.claude.tool: tool "shout" takes a string, not an object',
    );
  });
});
