/**
 * TypeScript tool modules load from an esbuild-compiled cache, without tsx's
 * loader hooks: through the real CLI process, a tool importing another local
 * TS module (by its `.js` name), zod and stepwise-engine, with type-only
 * imports; an edit to either file is picked up; the tool sees the same zod
 * module the engine uses; a cache that cannot be written falls back to tsx.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { baseEnv, cli, lastJson, root, tempDir } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function project(): { dir: string; tool: string; helper: string; wf: string; cache: string } {
  const dir = tempDir();
  dirs.push(dir);
  mkdirSync(join(dir, 'tools'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const helper = join(dir, 'tools', 'prefix.ts');
  writeFileSync(helper, "export interface Greeting { readonly word: string }\nexport const greeting: Greeting = { word: 'hello' };\n");
  const tool = join(dir, 'tools', 'greet.ts');
  writeFileSync(
    tool,
    [
      "import { z } from 'zod';",
      "import { defineTool, type ToolContext } from 'stepwise-engine';",
      "import type { Greeting } from './prefix.js';",
      "import { greeting } from './prefix.js';",
      'const word = (g: Greeting): string => g.word;',
      'export { z };',
      "export const greet = defineTool({ name: 'greet', description: 'Greet', input: z.object({ name: z.string() }),",
      '  run: ({ name }, context: ToolContext) => ({ text: `${word(greeting)} ${name}`, source: import.meta.url, step: context.stepId }) });',
      '',
    ].join('\n'),
  );
  const wf = join(dir, 'wf.yaml');
  writeFileSync(wf, 'id: greet\ntools: ./tools/greet.ts\nsteps:\n  a: { tool: greet, with: { name: "{% $input.name %}" }, next: b }\n  b: { final: true, output: "{% $steps.a.output %}" }\n');
  return { dir, tool, helper, wf, cache: join(dir, 'cache') };
}

async function greet(wf: string, cache: string): Promise<unknown> {
  const result = await cli(['run', wf, '--input', '{"name":"ada"}', '--store', 'memory', '--emulator', '--json'], baseEnv({ STEPWISE_CACHE_DIR: cache }));
  expect(result.code, result.stderr).toBe(0);
  return lastJson(result.stdout).output;
}

describe('TypeScript modules through the compiled cache', { timeout: SPAWN_BUDGET_MS }, () => {
  it('a tool importing a local TS module, zod and stepwise-engine runs, and edits to either file are compiled again', async () => {
    const { tool, helper, wf, cache } = project();
    expect(await greet(wf, cache)).toEqual({ text: 'hello ada', source: pathToFileURL(tool).href, step: 'a' });
    const compiled = readdirSync(join(cache, 'ts')).filter((f) => f.endsWith('.mjs'));
    expect(compiled).toHaveLength(2);
    expect(compiled.map((f) => readFileSync(join(cache, 'ts', f), 'utf8')).join('\n')).toContain("word: 'hello'".replace(/'/g, '"'));

    writeFileSync(helper, "export interface Greeting { readonly word: string }\nexport const greeting: Greeting = { word: 'bye' };\n");
    expect(await greet(wf, cache)).toMatchObject({ text: 'bye ada' });
    writeFileSync(tool, readFileSync(tool, 'utf8').replace('`${word(greeting)} ${name}`', '`${word(greeting)} ${name}!`'));
    expect(await greet(wf, cache)).toMatchObject({ text: 'bye ada!' });
  });

  it('the tool gets the very zod module the engine imports', async () => {
    const { tool, cache } = project();
    const script = [
      `import { importFile } from ${JSON.stringify(pathToFileURL(join(root, 'dist/definition/import-module.js')).href)};`,
      "import { z } from 'zod';",
      `const tool = await importFile(${JSON.stringify(tool)});`,
      'console.log(JSON.stringify({ same: tool.z === z, greet: typeof tool.greet }));',
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env: baseEnv({ STEPWISE_CACHE_DIR: cache }) });
    expect(JSON.parse(stdout)).toEqual({ same: true, greet: 'object' });
    expect(readdirSync(join(cache, 'ts')).some((f) => f.endsWith('.json'))).toBe(true);
  });

  it('a module two others import (one also dynamically) is one instance; an import cycle loads through tsx', async () => {
    const dir = tempDir();
    dirs.push(dir);
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
    write('shared.ts', 'export const box: { n: number } = { n: 0 };\n');
    write('a.ts', "import { box } from './shared.js';\nbox.n += 1;\nexport const a = 'a';\n");
    write('b.ts', "import { box } from './shared.js';\nbox.n += 1;\nexport const b = 'b';\n");
    write('diamond.ts', "import { a } from './a.js';\nimport { b } from './b.js';\nimport { box } from './shared.js';\nexport const seen = { a, b, n: box.n, url: import.meta.url };\n" +
        "export const lazy = async (): Promise<boolean> => (await import('./shared.js')).box === box;\n");
    write('c1.ts', "import { two } from './c2.js';\nexport const one = 1;\nexport const seen = { url: import.meta.url, sum: () => one + two() };\n");
    write('c2.ts', "import { one } from './c1.js';\nexport const two = (): number => one + 1;\n");
    const script = [
      `import { importFile } from ${JSON.stringify(pathToFileURL(join(root, 'dist/definition/import-module.js')).href)};`,
      `const diamond = await importFile(${JSON.stringify(join(dir, 'diamond.ts'))});`,
      `const cycle = await importFile(${JSON.stringify(join(dir, 'c1.ts'))});`,
      'console.log(JSON.stringify({ diamond: { ...diamond.seen, lazy: await diamond.lazy() }, cycle: { url: cycle.seen.url, sum: cycle.seen.sum() } }));',
    ].join('\n');
    const cache = join(dir, 'cache');
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env: baseEnv({ STEPWISE_CACHE_DIR: cache }) });
    const seen = JSON.parse(stdout) as { diamond: unknown; cycle: { url: string; sum: number } };
    expect(seen.diamond).toEqual({ a: 'a', b: 'b', n: 2, url: pathToFileURL(join(dir, 'diamond.ts')).href, lazy: true });
    expect(seen.cycle.sum).toBe(3);
    expect(seen.cycle.url.startsWith(`${pathToFileURL(join(dir, 'c1.ts')).href}?tsx-namespace=`)).toBe(true);
    expect(readdirSync(join(cache, 'ts')).filter((f) => f.endsWith('.mjs'))).toHaveLength(4);
  });

  it('a cache directory that cannot be written falls back to tsx, with the same result', async () => {
    const { dir, tool, wf } = project();
    const notADirectory = join(dir, 'file');
    writeFileSync(notADirectory, '');
    const output = (await greet(wf, join(notADirectory, 'cache'))) as { text: string; source: string };
    expect(output.text).toBe('hello ada');
    // tsx's import, as before (its URLs carry a namespace query; the compiled module's name the source file as it is).
    expect(output.source.startsWith(`${pathToFileURL(tool).href}?tsx-namespace=`)).toBe(true);
  });

  it('a syntax error in an imported local module names that file, line and column', async () => {
    const { helper, wf, cache } = project();
    writeFileSync(helper, 'export const greeting = (a: number => a;\n');
    const result = await cli(['validate', wf], baseEnv({ STEPWISE_CACHE_DIR: cache }));
    expect(result.code).toBe(1);
    expect(result.stdout.trim()).toBe(`${wf}:2:8: tools: cannot load tool module ./tools/greet.ts: TypeScript syntax error: ${helper}:1:36: Expected ")" but found "=>"`);
  });

  it('a syntax error in the definition module itself is reported at its own line and column, once', async () => {
    const { dir, cache } = project();
    const module = join(dir, 'wf.ts');
    writeFileSync(module, ["import { defineWorkflow } from 'stepwise-engine';", 'export default defineWorkflow({', "  id: 'w',", '  steps: {', "    a: { final: true, next: 'done' ", '    done: { final: true },', '  },', '});', ''].join('\n'));
    const result = await cli(['validate', module], baseEnv({ STEPWISE_CACHE_DIR: cache }));
    expect(result.code).toBe(1);
    // It read `wf.ts:1:1: cannot load the definition module: TypeScript syntax error: /…/wf.ts:6:4: …`.
    expect(result.stdout.trim()).toBe(`${module}:6:5: cannot load the definition module: TypeScript syntax error: Expected "}" but found "done"`);
  });
});
