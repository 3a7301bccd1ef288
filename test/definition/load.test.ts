import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DefinitionError } from '../../src/errors.js';
import { defineWorkflow } from '../../src/definition/define.js';
import { loadDefinition, loadDefinitionFromObject } from '../../src/definition/load.js';
import { defineTool } from '../../src/tools/define.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => relative(process.cwd(), join(here, 'fixtures', name));

async function failure(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DefinitionError);
  return (error as DefinitionError).message.split('\n');
}

describe('loadDefinition', () => {
  it('loads a YAML definition with a TypeScript and a JavaScript tool module', async () => {
    const loaded = await loadDefinition(fixture('valid.yaml'));
    expect(loaded.workflow.id).toBe('lookup-flow');
    expect(loaded.source).toBe(resolve(fixture('valid.yaml')));
    expect([...loaded.tools.keys()].sort()).toEqual(['extract', 'lookup', 'notify']);
    expect(loaded.toolModules).toEqual([resolve(fixture('tools/lookup.ts')), resolve(fixture('tools/notify.mjs'))]);
    expect(loaded.warnings).toEqual([]);
    expect(loaded.hash).toMatch(/^[0-9a-f]{12}$/);
    expect(await loaded.tools.get('lookup')?.run({ id: 'a' }, {} as never)).toEqual({ id: 'a' });
  });

  it('loads JSON through the YAML parser', async () => {
    const loaded = await loadDefinition(fixture('valid.json'));
    expect(loaded.workflow).toEqual({ id: 'json-flow', steps: { only: { final: true, output: { ok: true } } } });
    expect(loaded.toolModules).toEqual([]);
  });

  it('skips tool modules when asked', async () => {
    const loaded = await loadDefinition(fixture('missing-module.yaml'), { loadTools: false });
    expect(loaded.tools.size).toBe(0);
  });

  it('reports a tool module that cannot be loaded at its entry in tools', async () => {
    const [line, ...rest] = await failure(loadDefinition(fixture('missing-module.yaml')));
    expect(line).toBe(`${fixture('missing-module.yaml')}:4:5: tools[1]: cannot load tool module ./tools/nope.ts: no such file ${resolve(fixture('tools/nope.ts'))}`);
    expect(rest).toEqual([]);
  });

  it('reports a tool no module provides, naming the step', async () => {
    expect(await failure(loadDefinition(fixture('missing-tool.yaml')))).toEqual([
      `${fixture('missing-tool.yaml')}:5:11: steps.find.tool: step "find" uses tool "lokup", which is not provided; did you mean "lookup"? Available tools: extract, lookup.`,
      `${fixture('missing-tool.yaml')}:8:13: steps.fill.claude.tool: step "fill" uses tool "summarize", which is not provided. Available tools: extract, lookup.`,
    ]);
  });

  it('rejects two tools with one name', async () => {
    expect(await failure(loadDefinition(fixture('duplicate-tools.yaml')))).toEqual([
      `${fixture('duplicate-tools.yaml')}:2:28: tools[1]: tool "lookup" is defined twice: in ./tools/lookup.ts and in ./tools/duplicate.ts; tool names must be unique`,
    ]);
  });

  it('reports YAML syntax errors and duplicate keys with their location', async () => {
    expect(await failure(loadDefinition(fixture('syntax.yaml')))).toEqual([
      `${fixture('syntax.yaml')}:5:1: YAML syntax error: All mapping items must start at the same column`,
    ]);
    expect(await failure(loadDefinition(fixture('duplicate-key.yaml')))).toEqual([
      `${fixture('duplicate-key.yaml')}:6:5: steps.find.next: duplicate key "next": a key may appear once per mapping`,
    ]);
  });

  it('loads a TypeScript definition made with defineWorkflow', async () => {
    const loaded = await loadDefinition(fixture('typed.ts'));
    expect(loaded.workflow.id).toBe('typed-flow');
    expect([...loaded.tools.keys()]).toEqual(['lookup']);
    expect(loaded.toolModules).toEqual([]);
  });

  it('validates a TypeScript definition with the same schema, at 1:1', async () => {
    expect(await failure(loadDefinition(fixture('typed-bad.ts')))).toEqual([
      `${fixture('typed-bad.ts')}:1:1: steps.find.nxt: unknown key "nxt"; did you mean "next"?`,
    ]);
  });

  it('rejects missing files and unknown file types', async () => {
    expect((await failure(loadDefinition(fixture('absent.yaml'))))[0]).toMatch(/absent\.yaml:1:1: cannot read the definition: ENOENT/);
    expect(await failure(loadDefinition(fixture('flow.toml')))).toEqual([
      `${fixture('flow.toml')}:1:1: unsupported file type ".toml"; use .yaml, .yml, .json, .ts, .mts, .cts, .js, .mjs, .cjs`,
    ]);
  });
});

describe('loadDefinitionFromObject', () => {
  const lookup = defineTool({ name: 'lookup', description: 'Look up', input: z.object({ id: z.string() }), run: ({ id }) => ({ id }) });
  const data = { id: 'embedded', steps: { find: { tool: 'lookup', with: { id: 'a' }, next: 'done' }, done: { final: true } } };

  it('validates data with the tools passed', () => {
    const loaded = loadDefinitionFromObject(data, [lookup], 'service');
    expect(loaded.source).toBe('service');
    expect(loaded.tools.get('lookup')).toBe(lookup);
  });

  it('locates issues at label:1:1', () => {
    expect(() => loadDefinitionFromObject(data, [], 'service')).toThrow(
      'service:1:1: steps.find.tool: step "find" uses tool "lookup", which is not provided. No tools are loaded: list tool modules in `tools:`.',
    );
  });

  it('accepts a defineWorkflow() result and hashes it like the same data', () => {
    const module = defineWorkflow({ id: 'embedded', tools: [lookup], steps: { find: { tool: 'lookup', with: { id: 'a' }, next: 'done' }, done: { final: true } } });
    const fromModule = loadDefinitionFromObject(module, [], 'module');
    expect(fromModule.hash).toBe(loadDefinitionFromObject(data, [lookup], 'data').hash);
    expect(fromModule.hash).not.toBe(loadDefinitionFromObject({ ...data, id: 'other' }, [lookup], 'data').hash);
  });
});
