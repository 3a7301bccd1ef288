/**
 * A reader that closes early (`stepwise list | head -n 1`) ends the command
 * quietly: exit 0 and no stack trace, as other CLIs do. Found by outside
 * testing (an unhandled EPIPE 'error' event with a Node stack trace, exit 1).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { createEngine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { main, tempDir } from './helpers.js';

const run = promisify(execFile);

describe('stdout closed early', () => {
  it('list | head -n 1 exits 0 without a stack trace', { timeout: SPAWN_BUDGET_MS }, async () => {
    const db = join(tempDir(), 'many.db');
    const store = createSqliteStore({ path: db });
    const engine = createEngine({ store, model: { baseURL: 'http://127.0.0.1:9', apiKey: 'x' } });
    const def = loadDefinitionFromObject({ id: 'parked', steps: { w: { wait: { on: { GO: 'd' } } }, d: { final: true } } }, [], 'parked');
    for (let i = 0; i < 2000; i++) await engine.start(def, { detach: true });
    await store.close();
    const { stdout, stderr } = await run('bash', ['-c', `set -o pipefail; "${process.execPath}" "${main}" list --store "sqlite:${db}" --limit 2000 2>err.txt | head -n 1; echo "rc=$?"; cat err.txt`], { cwd: tempDir() });
    expect(stdout).toMatch(/^run\s+workflow/);
    expect(stdout).toContain('rc=0');
    expect(stdout + stderr).not.toMatch(/EPIPE|Unhandled/);
  });
});
