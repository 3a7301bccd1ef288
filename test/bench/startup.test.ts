import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli } from '../cli/helpers.js';

const out = mkdtempSync(join(tmpdir(), 'bench-startup-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('stepwise bench --startup', () => {
  it('times each command beside node -e "", with its target, and adds a startup key to latest.json keeping the others', { timeout: SPAWN_BUDGET_MS }, async () => {
    writeFileSync(join(out, 'latest.json'), JSON.stringify({ scenarios: 8, server: { clients: 50 } }));
    const result = await cli(['bench', '--startup', '--runs', '1', '--out', out, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const printed = JSON.parse(lines[lines.length - 1]!);
    expect(Object.keys(printed)).toEqual(['startup']);
    const written = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
    expect(written).toMatchObject({ scenarios: 8, server: { clients: 50 }, startup: { runs: 1 } });
    const commands: Array<{ name: string; medianMs: number; targetMs: number | null; met: boolean | null }> = written.startup.commands;
    expect(commands.map((c) => c.name)).toEqual(['node', 'help', 'validate', 'run']);
    for (const c of commands) expect(c.medianMs).toBeGreaterThan(0);
    expect(commands.map((c) => c.targetMs)).toEqual([null, 250, 500, 800]);
    for (const c of commands.slice(1)) expect(typeof c.met).toBe('boolean');
    expect(result.stdout).toContain('| `stepwise --help` |');
  });
});
