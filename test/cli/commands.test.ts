/**
 * End to end: `validate`, `schema`, `emulator`, and which model server the
 * CLI talks to (its own emulator only when the environment names none).
 */
import Anthropic from '@anthropic-ai/sdk';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { EMULATOR_NOTE, baseEnv, cli, collect, example, lastJson, root, spawnCli, tempDir, tempStore } from './helpers.js';

const examples = ['definitions/invoice-approval.yaml', 'definitions/support-triage.yaml', 'definitions/lead-enrichment.ts'];

describe.concurrent('stepwise validate', { timeout: SPAWN_BUDGET_MS }, () => {
  it('exits 0 on every example, together and one by one', async () => {
    const results = await Promise.all([cli(['validate', ...examples]), ...examples.map((file) => cli(['validate', file]))]);
    for (const result of results) expect(result.code, result.stdout + result.stderr).toBe(0);
    const [all] = results;
    for (const file of examples) expect(all!.stdout).toContain(`ok ${file}`);
  });

  it('exits 1 with file:line:col: message lines on broken definitions', async () => {
    const dir = tempDir();
    const tools = `tools: ${join(root, 'definitions/tools/invoice.ts')}`;
    const misspelt = join(dir, 'misspelt.yaml');
    writeFileSync(
      misspelt,
      ['id: misspelt', tools, 'steps:', '  extract:', '    claude:', '      tool: record_invoice', '      prompt: Extract it.', '    nxt: done', '  done: { final: true }', ''].join('\n'),
    );
    const noTool = join(dir, 'no-tool.yaml');
    writeFileSync(noTool, ['id: no-tool', tools, 'steps:', '  lookup:', '    tool: look_up_vendor', '    next: done', '  done: { final: true }', ''].join('\n'));

    const result = await cli(['validate', 'definitions/invoice-approval.yaml', misspelt, noTool]);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ok definitions\/invoice-approval\.yaml/);
    const problems = lines.slice(1);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toBe(`${misspelt}:8:5: steps.extract.nxt: unknown key "nxt"; did you mean "next"?`);
    expect(problems[1]).toMatch(new RegExp(`^${noTool.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:11: `));
    expect(problems[1]).toContain('step "lookup" uses tool "look_up_vendor", which is not provided');
  });

  it('checks the definition files workflow steps name too: a broken child is reported at its own file and line', async () => {
    const dir = tempDir();
    const child = join(dir, 'child.yaml');
    writeFileSync(child, ['id: child', 'steps:', '  w: { wait: { on: { GO: d } } }', '  d: { final: true, nxt: w }', ''].join('\n'));
    const parent = join(dir, 'parent.yaml');
    writeFileSync(parent, ['id: parent', 'steps:', '  sub: { workflow: { file: child.yaml }, next: done }', '  again: { workflow: { file: ./child.yaml }, next: done }', '  done: { final: true }', ''].join('\n'));
    const result = await cli(['validate', parent]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ok .*parent\.yaml: parent/);
    // The child once, though two steps name it.
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(/child\.yaml:4:\d+: steps\.d\.nxt: unknown key "nxt"/);
  });

  it('exits 1 naming the file when it cannot be read', async () => {
    const result = await cli(['validate', 'definitions/nope.yaml']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^definitions\/nope\.yaml:1:1: cannot read the definition/);
  });
});

describe('stepwise schema', { timeout: SPAWN_BUDGET_MS }, () => {
  it('prints the committed JSON Schema', async () => {
    const result = await cli(['schema']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(readFileSync(join(root, 'schema/workflow.schema.json'), 'utf8')));
  });
});

describe('stepwise emulator', { timeout: SPAWN_BUDGET_MS }, () => {
  it('serves the Messages API on the port it prints until stopped', async () => {
    const child = spawnCli(['emulator', '--port', '0', '--seed', '3']);
    const done = collect(child);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.on('close', () => reject(new Error(`emulator exited: ${out}`)));
    });
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(url).not.toMatch(/:0$/);
      const client = new Anthropic({ baseURL: url, apiKey: 'any', maxRetries: 0 });
      const reply = await client.messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 200,
        messages: [{ role: 'user', content: 'Vendor ID: V-1001' }],
        tools: [{ name: 'record', description: 'Record it.', input_schema: { type: 'object', properties: { vendorId: { type: 'string' } }, required: ['vendorId'] } }],
        tool_choice: { type: 'tool', name: 'record' },
      });
      expect(reply.stop_reason).toBe('tool_use');
      expect(reply.content[0]).toMatchObject({ type: 'tool_use', name: 'record', input: { vendorId: expect.any(String) } });
      const count = await client.messages.countTokens({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hello' }] });
      expect(count.input_tokens).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
    }
    expect((await done).code).toBe(0);
  });
});

describe.concurrent('model server selection', { timeout: SPAWN_BUDGET_MS }, () => {
  it('uses ANTHROPIC_BASE_URL as is and starts no emulator of its own', async () => {
    const emu = await startEmulator({ seed: 1 });
    try {
      const env = baseEnv({ ANTHROPIC_BASE_URL: emu.url, ANTHROPIC_API_KEY: 'anything' });
      const result = await cli(['run', ...example('support-triage.yaml'), ...tempStore(), '--json'], env);
      expect(result.code).toBe(0);
      expect(result.stderr).not.toContain('built-in emulator');
      expect(lastJson(result.stdout).status).toBe('done');
      expect(emu.stats().messages).toBeGreaterThan(0);
      expect(emu.stats().inputTokens + emu.stats().outputTokens).toBe(lastJson(result.stdout).usage.totalTokens);
    } finally {
      await emu.close();
    }
  });

  it('uses ANTHROPIC_BASE_URL without a key too, and says --faults does not apply', async () => {
    const emu = await startEmulator({ seed: 1 });
    try {
      const env = baseEnv({ ANTHROPIC_BASE_URL: emu.url });
      delete env['ANTHROPIC_API_KEY'];
      const result = await cli(['run', ...example('lead-enrichment.ts'), ...tempStore(), '--faults', 'refusal=1', '--json'], env);
      expect(result.code).toBe(0);
      expect(result.stderr).not.toContain(EMULATOR_NOTE);
      expect(result.stderr).toContain('--faults only applies to the built-in emulator');
      expect(lastJson(result.stdout).status).toBe('done');
      expect(emu.stats().requests).toBeGreaterThan(0);
    } finally {
      await emu.close();
    }
  });
});
