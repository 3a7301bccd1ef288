/**
 * Definitions written outside this repo: tool modules importing `stepwise-engine` and `zod` without installing them
 * (and `stepwise`, the name before the package was renamed), TS definitions outside an ESM package.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { baseEnv, cli, lastJson } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function project(esm: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-external-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'tools'));
  if (esm) writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(
    join(dir, 'tools', 'shout.ts'),
    "import { z } from 'zod';\nimport { defineTool } from 'stepwise-engine';\n" +
      "export const shout = defineTool({ name: 'shout', description: 'Shout', input: z.object({ text: z.string() }), run: ({ text }) => ({ text: text.toUpperCase() }) });\n",
  );
  writeFileSync(
    join(dir, 'wf.yaml'),
    'id: external\ntools: ./tools/shout.ts\nsteps:\n  a: { tool: shout, with: { text: "{% $input.text %}" } }\n  b: { final: true, output: "{% $steps.a.output.text %}" }\n',
  );
  writeFileSync(
    join(dir, 'def.ts'),
    // The old name still resolves to this package when no `stepwise` is installed.
    "import { defineWorkflow } from 'stepwise';\nimport { shout } from './tools/shout.ts';\n" +
      "export default defineWorkflow({ id: 'external-ts', tools: [shout], steps: { a: { tool: 'shout', with: { text: 'ts' }, next: 'b' }, b: { final: true, output: '{% $steps.a.output.text %}' } } });\n",
  );
  return dir;
}

describe('definitions outside the repo', { timeout: SPAWN_BUDGET_MS }, () => {
  for (const esm of [false, true]) {
    it(`run with tool modules importing stepwise-engine and zod (${esm ? 'ESM package' : 'no package.json'})`, async () => {
      const dir = project(esm);
      const yaml = await cli(['run', join(dir, 'wf.yaml'), '--input', '{"text":"hey"}', '--store', 'memory', '--emulator', '--json']);
      expect(yaml.stderr).not.toMatch(/Cannot find/);
      expect(lastJson(yaml.stdout)).toMatchObject({ status: 'done', output: 'HEY' });
      const ts = await cli(['run', join(dir, 'def.ts'), '--store', 'memory', '--emulator', '--json']);
      expect(lastJson(ts.stdout)).toMatchObject({ workflow: 'external-ts', status: 'done', output: 'TS' });
    });
  }

  it('list rejects an unknown status and prune refuses runs that have not stopped', async () => {
    const list = await cli(['list', '--status', 'bogus', '--store', 'memory']);
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/Unknown status bogus/);
    const prune = await cli(['prune', '--older-than', '1s', '--status', 'waiting', '--store', 'memory'], baseEnv());
    expect(prune.code).toBe(1);
    expect(prune.stderr).toMatch(/Cannot prune status waiting/);
  });
});

describe('worker and the run options', { timeout: SPAWN_BUDGET_MS }, () => {
  it('a detached run keeps the fault spec it was started with when a worker drives it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-worker-faults-'));
    dirs.push(dir);
    const store = `sqlite:${join(dir, 'runs.db')}`;
    const lead = ['definitions/lead-enrichment.ts', '--input', '@definitions/lead-enrichment.input.json', '--store', store, '--detach', '--json'];
    const faulty = lastJson((await cli(['run', ...lead, '--id', 'faulty', '--faults', 'rate_limit=1'])).stdout);
    const clean = lastJson((await cli(['run', ...lead, '--id', 'clean'])).stdout);
    expect([faulty.status, clean.status]).toEqual(['running', 'running']);
    const worker = await cli(['worker', '--emulator', '--store', store, '--exit-when-idle', '--max-retries', '0', '--poll', '20ms']);
    expect(worker.code).toBe(0);
    const show = async (id: string) => lastJson((await cli(['show', id, '--store', store, '--json'])).stdout);
    const failed = await show('faulty');
    expect(failed.status).toBe('failed');
    expect(failed.failure).toMatchObject({ kind: 'retries_exhausted', step: 'score' });
    expect((await show('clean')).status).toBe('done');
  });
});
