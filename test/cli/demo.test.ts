/** `npm run demo` (scripts/demo.sh): run, approve from a second process, show — end to end. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { baseEnv, collect, root } from './helpers.js';

describe('the demo script', { timeout: SPAWN_BUDGET_MS }, () => {
  it('runs the invoice approval, approves it from a second process and shows a finished timeline', async () => {
    const result = await collect(spawn('bash', [join(root, 'scripts/demo.sh')], { cwd: root, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(result.code, result.stderr).toBe(0);
    const id = /run (\S+) is waiting/.exec(result.stdout)?.[1];
    expect(id).toBeDefined();
    expect(result.stdout).toContain(`== stepwise send ${id} APPROVE (a second process)`);
    expect(result.stdout).toContain(`run ${id}`);
    expect(result.stdout).toContain('status done');
    // The timeline's last journal line: the run finished at its `done` step.
    const finished = result.stdout.trim().split('\n').filter((l) => /\bfinished\b/.test(l));
    expect(finished.at(-1)).toMatch(/\bdone\s+1\s+.*\bfinished\b/);
    expect(result.stderr).toContain('using the built-in emulator');
  });
});
