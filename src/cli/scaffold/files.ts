/**
 * The files `stepwise init` writes: a YAML definition (with the `$schema`
 * line editors read), its input, a TypeScript tools module and a test. Pure:
 * it returns names and contents; the command writes them.
 */

export interface ScaffoldOptions {
  /** The workflow id. */
  readonly id: string;
  /** The definition format's JSON Schema, relative to the directory written to. */
  readonly schemaPath: string;
}

export interface ScaffoldFile {
  /** Relative to the directory written to. */
  readonly name: string;
  readonly content: string;
}

/** The file names, in the order they are written and listed. */
export const scaffoldNames = ['workflow.yaml', 'workflow.input.json', 'tools.mts', 'workflow.test.mts'] as const;

/** A workflow id from a directory name: letters, digits, `_` and `-`, starting with a letter. */
export function workflowIdFor(dirName: string): string {
  const id = dirName.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[^A-Za-z_]+/, '').replace(/-+$/, '');
  return id || 'hello';
}

const definition = ({ id, schemaPath }: ScaffoldOptions): string => `# yaml-language-server: $schema=${schemaPath}
# Claude drafts a reply, a person approves it, the application sends it.
#   npx stepwise validate workflow.yaml
#   npx stepwise run workflow.yaml --input @workflow.input.json
#   npx stepwise send <runId> APPROVE --data '{"by":"you"}'
id: ${id}
tools: ./tools.mts
budget: { tokens: 10000, stopAt: 0.9 }
retry: { maxAttempts: 3, backoff: { initial: 200ms, factor: 2, max: 2s } }
input:
  type: object
  required: [customer, question]
  properties:
    customer: { type: string, minLength: 1 }
    question: { type: string, minLength: 1 }
steps:
  draft:                          # Claude fills the input of one tool
    claude:
      tool: draft_reply
      prompt: Draft a short, friendly reply to the customer's question.
      context: { customer: "{% $input.customer %}", question: "{% $input.question %}" }
      maxTokens: 400
    next: review
  review:                         # a person decides; the run waits in the store
    wait: { on: { APPROVE: send, REJECT: rejected }, timeout: 72h, onTimeout: rejected }
  send:                           # the application calls a tool itself
    tool: send_reply
    with: { to: "{% $input.customer %}", text: "{% $steps.draft.output.text %}" }
    next: sent
  sent: { final: true, output: "{% $steps.send.output %}" }
  rejected: { final: true, output: { sent: false } }
`;

const input = `${JSON.stringify({ customer: 'ada@example.com', question: 'Can I change the delivery address of order 1042?' }, null, 2)}\n`;

const tools = `/** The tools of workflow.yaml: the reply Claude drafts, and sending it. */
import { z } from 'zod';
import { defineTool } from 'stepwise-engine';

/** Claude fills this tool's input (the \`draft\` step); what \`run\` returns is the step's output. */
export const draftReply = defineTool({
  name: 'draft_reply',
  description: 'Record the drafted reply to the customer.',
  input: z.object({ text: z.string().min(1).max(2000).describe('The reply, a few sentences') }),
  run: ({ text }) => ({ text, words: text.split(/\\s+/).filter(Boolean).length }),
});

/** Called by the application (the \`send\` step). The idempotency key is the same on a re-run after a crash. */
export const sendReply = defineTool({
  name: 'send_reply',
  description: 'Send the reply to the customer.',
  input: z.object({ to: z.string(), text: z.string() }),
  run: ({ to }, { idempotencyKey }) => ({ sent: true, to, messageId: idempotencyKey }),
});
`;

const test = `/**
 * Runs workflow.yaml on the emulator from stepwise-engine/testing (a local,
 * simulated model: no API key, no cost) and approves it:
 *   npx tsx --test workflow.test.mts
 * (.mts: an ES module whether or not a package.json here says "type": "module").
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createEngine, loadDefinition, openStore } from 'stepwise-engine';
import { startEmulator } from 'stepwise-engine/testing';

const dir = import.meta.dirname;

test('drafts a reply, waits for approval, then sends it', async () => {
  const emulator = await startEmulator({ seed: 1 });
  const store = await openStore('memory');
  try {
    const engine = createEngine({ store, model: { baseURL: emulator.url, apiKey: 'emulator' } });
    const definition = await loadDefinition(join(dir, 'workflow.yaml'));
    const input: unknown = JSON.parse(readFileSync(join(dir, 'workflow.input.json'), 'utf8'));
    const waiting = await engine.start(definition, { input });
    assert.equal(waiting.status, 'waiting');
    const done = await engine.send(waiting.runId, 'APPROVE', { by: 'test' });
    assert.equal(done.status, 'done');
    assert.deepEqual(done.output, { sent: true, to: 'ada@example.com', messageId: \`\${done.runId}:send:1:1\` });
  } finally {
    await store.close();
    await emulator.close();
  }
});
`;

/** The scaffold's files, in {@link scaffoldNames} order. */
export function scaffoldFiles(options: ScaffoldOptions): ScaffoldFile[] {
  const content: Record<(typeof scaffoldNames)[number], string> = {
    'workflow.yaml': definition(options),
    'workflow.input.json': input,
    'tools.mts': tools,
    'workflow.test.mts': test,
  };
  return scaffoldNames.map((name) => ({ name, content: content[name] }));
}
