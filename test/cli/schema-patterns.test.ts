/**
 * A JSON Schema `pattern` in a definition is matched against untrusted text (a model's reply to an `analyze` step, a
 * run's input): a pattern such as `^([a-z0-9]+)+$` must not let that text freeze the process by backtracking (found
 * by an outside tester: 27 characters blocked the event loop 15 s, the step's timeout could not fire). The built CLI
 * against a real node:http Messages-API server (the real SDK), in a child process: were matching to backtrack, the
 * child would never answer and the test would fail on its budget.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { baseEnv, collect, lastJson, spawnCli, tempDir, tempStore } from './helpers.js';

/** Backtracks exponentially in a JavaScript RegExp on "aaa…a!"; RE2 answers at once. */
const PATTERN = '^([a-z0-9]+)+$';
const EVIL = `${'a'.repeat(60)}!`;

const children: ChildProcess[] = [];
const run = (args: readonly string[], env: NodeJS.ProcessEnv) => {
  const child = spawnCli(args, env);
  children.push(child);
  return collect(child);
};

let server: Server;
let baseURL: string;
beforeAll(async () => {
  // Fills the forced tool with a handle made to backtrack.
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as { model: string; tools: Array<{ name: string }> };
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model: body.model,
          content: [{ type: 'tool_use', id: 'toolu_1', name: body.tools[0]!.name, input: { handle: EVIL } }],
          stop_reason: 'tool_use',
          stop_sequence: null,
          usage: { input_tokens: 100, output_tokens: 20 },
        }),
      );
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const dir = tempDir();
const file = join(dir, 'handle.yaml');
writeFileSync(
  file,
  [
    'id: handle',
    'input:',
    '  type: object',
    '  properties:',
    `    handle: { type: string, pattern: "${PATTERN}" }`,
    'retry: { maxAttempts: 1 }',
    'steps:',
    '  look:',
    '    analyze:',
    '      prompt: Classify the customer handle.',
    '      schema:',
    '        type: object',
    '        required: [handle]',
    '        properties:',
    `          handle: { type: string, maxLength: 64, pattern: "${PATTERN}" }`,
    '    next: done',
    '  done: { final: true, output: "{% $steps.look.output %}" }',
    '',
  ].join('\n'),
);

describe('JSON Schema patterns match in linear time', { timeout: SPAWN_BUDGET_MS }, () => {
  const env = () => baseEnv({ ANTHROPIC_BASE_URL: baseURL, ANTHROPIC_API_KEY: 'sk-test-0123456789abcdef' });

  it("an analyze step's reply made to backtrack fails the step at once as invalid_data", async () => {
    const result = await run(['run', file, '--input', '{}', ...tempStore(), '--max-retries', '0', '--json'], env());
    expect(result.code).toBe(1);
    expect(lastJson(result.stdout)).toMatchObject({ status: 'failed', failure: { kind: 'invalid_data', step: 'look' } });
    expect(lastJson(result.stdout).failure?.message).toContain(`/handle must match pattern "${PATTERN}"`);
  });

  it('a run input made to backtrack is refused at once as not matching the input schema', async () => {
    const result = await run(['run', file, '--input', JSON.stringify({ handle: EVIL }), ...tempStore(), '--json'], env());
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`/handle must match pattern "${PATTERN}"`);
  });

  it('an input the pattern matches still passes', async () => {
    const result = await run(['run', file, '--input', JSON.stringify({ handle: 'abc123' }), ...tempStore(), '--max-retries', '0', '--json'], env());
    // The run starts (the input matched) and then fails on the model's reply, as above.
    expect(lastJson(result.stdout)).toMatchObject({ status: 'failed', failure: { step: 'look' } });
  });
});
