/**
 * A model server (a gateway, a model told to) that echoes the configured API key or auth token into a tool input
 * leaves it in nothing Stepwise stores or shows: the run's output, the journal, the store (the SQLite file itself),
 * `show --json`, as a `--record` cassette already hid it (found by an outside tester: the key was kept verbatim 6
 * times in each). The tool itself still gets the input as the model gave it. The real SDK against a real node:http
 * server that echoes the credential each request carries.
 */
import { once } from 'node:events';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import type { ModelOptions } from '../../src/model/client.js';
import { openStore } from '../../src/store/open.js';
import { defineTool } from '../../src/tools/define.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { baseEnv, cli, lastJson, tempDir } from '../cli/helpers.js';

/** A credential no pattern knows by its shape: only its being configured hides it. */
const KEY = 'gw-0123456789abcdefXYZ';

/** Fills the forced tool with what `fill(credential)` makes of the credential the request carried. */
let fill: (credential: string) => Record<string, unknown> = () => ({});
let server: Server;
let baseURL: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as { model: string; tools: Array<{ name: string }> };
      const credential = String(req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer /, ''));
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model: body.model,
          content: [{ type: 'tool_use', id: 'toolu_1', name: body.tools[0]!.name, input: fill(credential) }],
          stop_reason: 'tool_use',
          stop_sequence: null,
          usage: { input_tokens: 10, output_tokens: 5 },
        }),
      );
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** What the tool was given, call by call. */
const received: unknown[] = [];
const recordNote = defineTool({
  name: 'record_note',
  description: 'Records a note and echoes it.',
  input: z.object({ title: z.string(), code: z.string().max(40) }),
  run: async (input) => {
    received.push(input);
    if (input.title.startsWith('fail')) throw Object.assign(new Error(`the upstream refused ${input.title}`), { retryable: false });
    return { saved: input, [`by ${input.code}`]: true };
  },
});

const workflow = {
  id: 'echoes',
  retry: { maxAttempts: 1 },
  steps: {
    note: { claude: { tool: 'record_note', prompt: 'Record a note.' }, next: 'label' },
    label: { analyze: { prompt: 'Label it.', schema: { type: 'object', properties: { label: { type: 'string' } } } }, next: 'done' },
    done: { final: true, output: { note: '{% $steps.note.output %}', label: '{% $steps.label.output %}' } },
  },
};

/** Runs `workflow` on a fresh SQLite file; everything kept of the run: what start returned, the journal, the stored record, the file's bytes. */
async function runKept(model: ModelOptions) {
  const dir = tempDir();
  const store = await openStore(`sqlite:${join(dir, 's.db')}`);
  const engine = createEngine({ store, tools: [recordNote], clock: new ManualClock({ autoAdvance: true }), model });
  const run = await engine.start(loadDefinitionFromObject(workflow, [recordNote], 'echoes'));
  const shown = JSON.stringify([run, await engine.journal(run.runId), await engine.get(run.runId), await store.get(run.runId)]);
  await store.close();
  const file = readdirSync(dir)
    .map((name) => readFileSync(join(dir, name)).toString('latin1'))
    .join('\n');
  return { run, shown, file };
}

describe('a credential the model echoes', () => {
  for (const [name, model] of [
    ['the API key', () => ({ baseURL, apiKey: KEY, maxRetries: 0 })],
    ['the auth token of a client passed in', () => ({ client: new Anthropic({ baseURL, authToken: KEY, maxRetries: 0 }) })],
  ] as const) {
    it(`${name}, in a tool input, a tool output (its keys too) and an analysis, is hidden in all that is kept; the tool gets it as given`, async () => {
      received.length = 0;
      fill = (credential) => ({ title: `you sent ${credential}`, code: credential, label: `key ${credential}` });
      const { run, shown, file } = await runKept(model());
      expect(run.status).toBe('done');
      expect(run.output).toEqual({ note: { saved: { title: 'you sent ***', code: '***' }, 'by ***': true }, label: { title: 'you sent ***', code: '***', label: 'key ***' } });
      expect(received).toEqual([{ title: `you sent ${KEY}`, code: KEY }]);
      expect(shown).not.toContain(KEY);
      expect(file).toContain('you sent ***');
      expect(file).not.toContain(KEY);
    });
  }

  it("in an input the tool schema refuses: hidden in the failed entry's input, and in the fields a retry keeps and quotes", async () => {
    fill = (credential) => ({ title: `you sent ${credential}`, code: `${credential} ${'x'.repeat(40)}` });
    const dir = tempDir();
    const store = await openStore(`sqlite:${join(dir, 's.db')}`);
    const engine = createEngine({ store, tools: [recordNote], clock: new ManualClock(), model: { baseURL, apiKey: KEY, maxRetries: 0 } });
    const retried = { ...workflow, retry: { maxAttempts: 2, backoff: { initial: '1h', jitter: 0 } } };
    // One step, as a worker advances it: the first attempt failed and the run waits out its backoff, keeping for the
    // retry the fields that passed (title) and quoting those that failed (code).
    const started = await engine.start(loadDefinitionFromObject(retried, [recordNote], 'echoes'), { detach: true });
    await engine.step(started.runId);
    const record = await store.get(started.runId);
    const lastError = (record?.snapshot as { context: { lastError: Record<string, unknown> } }).context.lastError;
    expect(lastError).toMatchObject({ kind: 'invalid_data', accepted: { title: 'you sent ***' }, rejected: { code: `*** ${'x'.repeat(40)}` } });
    const shown = JSON.stringify([await engine.journal(started.runId), record]);
    expect(shown).toContain('"input":{"title":"you sent ***"');
    expect(shown).not.toContain(KEY);
    await store.close();
    expect(readdirSync(dir).map((name) => readFileSync(join(dir, name)).toString('latin1')).join('\n')).not.toContain(KEY);
  });

  it("in a tool's error message: hidden in the failure, the journal and the store", async () => {
    fill = (credential) => ({ title: `fail for ${credential}`, code: 'c' });
    const { run, shown, file } = await runKept({ baseURL, apiKey: KEY, maxRetries: 0 });
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'tool_error', message: expect.stringContaining('the upstream refused fail for ***') } });
    expect(shown).not.toContain(KEY);
    expect(file).not.toContain(KEY);
  });

  it('through the CLI: neither run --json, show --json nor the SQLite file holds ANTHROPIC_API_KEY', { timeout: SPAWN_BUDGET_MS }, async () => {
    fill = (credential) => ({ label: `you sent ${credential}` });
    const dir = tempDir();
    const file = join(dir, 'label.yaml');
    writeFileSync(file, JSON.stringify({ id: 'label', steps: { label: workflow.steps.label, done: { final: true, output: '{% $steps.label.output %}' } } }));
    const env = baseEnv({ ANTHROPIC_BASE_URL: baseURL, ANTHROPIC_API_KEY: KEY });
    const store = `sqlite:${join(dir, 's.db')}`;
    const ran = await cli(['run', file, '--input', '{}', '--store', store, '--max-retries', '0', '--json'], env);
    expect(lastJson(ran.stdout)).toMatchObject({ status: 'done', output: { label: 'you sent ***' } });
    const shown = await cli(['show', lastJson(ran.stdout).runId, '--store', store, '--json'], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('you sent ***');
    const bytes = readdirSync(dir)
      .filter((name) => name.startsWith('s.db'))
      .map((name) => readFileSync(join(dir, name)).toString('latin1'))
      .join('\n');
    for (const text of [ran.stdout, ran.stderr, shown.stdout, bytes]) expect(text).not.toContain(KEY);
  });
});
