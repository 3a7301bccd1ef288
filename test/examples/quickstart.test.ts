/**
 * The README's embedding code is examples/embedding/quickstart.ts, character
 * for character, and it runs as written: no API key (so on the emulator it
 * starts itself), the package imported by its name, from a directory holding
 * the example definitions; the CLI then finds the run in the same store.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { baseEnv, collect, lastJson, main, root } from '../cli/helpers.js';

const file = join(root, 'examples', 'embedding', 'quickstart.ts');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The first ```ts block of the README's "## Embedding" section. */
function readmeEmbeddingBlock(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Embedding\n'));
  const block = /\n```ts\n([\s\S]*?)\n```\n/.exec(section);
  if (!block?.[1]) throw new Error('README.md has no ```ts block under "## Embedding"');
  return `${block[1]}\n`;
}

describe('the README embedding example', { timeout: SPAWN_BUDGET_MS }, () => {
  it('is examples/embedding/quickstart.ts exactly', () => {
    expect(readmeEmbeddingBlock()).toBe(readFileSync(file, 'utf8'));
  });

  it('runs as written without an API key: sees the wait, approves, and leaves the run in the CLI default store', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'stepwise-quickstart-'));
    dirs.push(cwd);
    symlinkSync(join(root, 'definitions'), join(cwd, 'definitions'));
    const tsx = join(root, 'node_modules', '.bin', 'tsx');
    const result = await collect(spawn(tsx, [file], { cwd, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const runId = lines[0]?.split(' ')[0] ?? '';
    expect(lines.slice(0, -1)).toContain(`${runId} waiting cfo_approval`);
    expect(lines.at(-2)).toBe(`${runId} done done`);
    expect(lines.at(-1)).toMatch(/^done \{"decision":"approved",.*"approvedBy":"cfo@example.com"/);

    const show = await collect(spawn(process.execPath, [main, 'show', runId, '--json'], { cwd, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(show.code).toBe(0);
    expect(lastJson(show.stdout)).toMatchObject({ runId, status: 'done' });
  });
});
