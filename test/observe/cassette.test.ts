import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, invoice, lastJson, root, tempStore } from './cli.js';

interface RunJson {
  status: string;
  output: unknown;
  usage: { totalTokens: number };
  steps: Array<{ id: string; attempts: number; tokens: number }>;
}

const triage = ['definitions/support-triage.yaml', '--input', '@definitions/support-triage.input.json'];

describe('cassettes: record once, replay with no model', { timeout: SPAWN_BUDGET_MS }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-cassette-'));

  it('replays a faulty run exactly: same attempts, tokens and outcome, and says no model server is used', async () => {
    const cassette = path.join(dir, 'flaky.json');
    const recorded = await cli(['run', ...invoice, '--store', tempStore(), '--faults', 'invalid_input=0.5', '--seed', '3', '--record', cassette, '--emulator', '--json']);
    const original = lastJson<RunJson>(recorded.stdout);
    expect(recorded.stderr).toMatch(/recorded \d+ model replies/);

    const replayed = await cli(['run', ...invoice, '--store', tempStore(), '--replay', cassette, '--json']);
    const again = lastJson<RunJson>(replayed.stdout);
    expect(replayed.stderr).toContain('no model server is used');
    expect(replayed.stderr).not.toContain('emulator');
    expect(again.status).toBe(original.status);
    expect(again.usage).toEqual(original.usage);
    expect(again.steps.map((s) => [s.id, s.attempts, s.tokens])).toEqual(original.steps.map((s) => [s.id, s.attempts, s.tokens]));
  });

  it('replays against a changed definition, matching replies by the tool each step forces', async () => {
    const cassette = path.join(dir, 'triage.json');
    const recorded = lastJson<RunJson>((await cli(['run', ...triage, '--store', tempStore(), '--record', cassette, '--emulator', '--json'])).stdout);
    expect(recorded.status).toBe('done');

    const changed = readFileSync(path.join(root, 'definitions/support-triage.yaml'), 'utf8')
      .replace('tools: ./tools/support.ts', `tools: ${path.join(root, 'definitions/tools/support.ts')}`)
      .replace('Classify the ticket and summarise it in one sentence.', 'Classify this support ticket; summarise it in one sentence.');
    const file = path.join(dir, 'changed.yaml');
    writeFileSync(file, changed);
    const replayed = await cli(['run', file, '--input', '@definitions/support-triage.input.json', '--store', tempStore(), '--replay', cassette, '--json']);
    const result = lastJson<RunJson>(replayed.stdout);
    expect(result.status).toBe('done');
    expect(result.output).toEqual(recorded.output);
    expect(replayed.stderr).toMatch(/answered 0 requests exactly, 1 by tool name, 0 missing/);
  });

  it('a request the cassette cannot answer fails the step clearly', async () => {
    const empty = path.join(dir, 'empty.json');
    writeFileSync(empty, JSON.stringify({ version: 1, interactions: [] }));
    const result = await cli(['run', ...invoice, '--store', tempStore(), '--replay', empty, '--json']);
    expect(result.code).toBe(1);
    expect(JSON.stringify(lastJson(result.stdout))).toContain('the cassette has no reply left');
  });
});
