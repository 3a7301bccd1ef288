/**
 * Partial tool inputs: a `claude` step's `with:` fills some fields of its
 * tool's input. Through the real engine, SQLite, the SDK and the emulator:
 * the model is sent a schema without them, cannot alter them, the merged input
 * is validated against the full schema, and prompts shrink. `validate` checks
 * the keys against the tool's schema and bounds the reduced schema.
 */
import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinition, loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { DefinitionError } from '../../src/errors.js';
import { worstCaseTokens } from '../../src/policy/worst-case.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { toolInputSchema } from '../../src/tools/define.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';
import { document, invoiceInput, recordingTool } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function definition(claudeWith?: Record<string, unknown>, tool = recordingTool('record_invoice', invoiceInput).tool) {
  return loadDefinitionFromObject(
    {
      id: 'partial',
      steps: {
        extract: {
          claude: {
            tool: 'record_invoice',
            prompt: 'Extract the invoice fields from the document.',
            context: { document: '{% $input.document %}' },
            ...(claudeWith ? { with: claudeWith } : {}),
          },
          next: 'done',
        },
        done: { final: true, output: '{% $steps.extract.output %}' },
      },
    },
    [tool],
    'partial',
  );
}

/** An engine whose SDK client records request bodies and may rewrite the tool input of each reply. */
async function setup(rewrite?: (input: Record<string, unknown>) => Record<string, unknown>): Promise<{ engine: Engine; store: Store; bodies: Array<Record<string, unknown>> }> {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-partial-'));
  const emu = await startEmulator({ seed: 5 });
  const store = createSqliteStore({ path: join(dir, 'runs.db') });
  const bodies: Array<Record<string, unknown>> = [];
  const proxy: typeof fetch = async (input, init) => {
    if (typeof init?.body === 'string' && String(input).endsWith('/v1/messages')) bodies.push(JSON.parse(init.body) as Record<string, unknown>);
    const response = await fetch(input, init);
    if (!rewrite || !response.ok) return response;
    const reply = (await response.json()) as { content: Array<{ type: string; input?: Record<string, unknown> }> };
    for (const block of reply.content) if (block.type === 'tool_use' && block.input) block.input = rewrite(block.input);
    return new Response(JSON.stringify(reply), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const client = new Anthropic({ baseURL: emu.url, apiKey: 'x', maxRetries: 0, fetch: proxy });
  const engine = createEngine({ store, model: { client, timeoutMs: MODEL_TIMEOUT_MS }, clock: new ManualClock({ autoAdvance: true }) });
  cleanups.push(async () => {
    await store.close();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { engine, store, bodies };
}

const input = { document, vendor: 'V-2002' };

describe('claude step with: partial tool inputs', () => {
  it('asks the model only for the other fields and runs the tool on the merged input', async () => {
    const { engine, bodies } = await setup();
    const { tool, calls } = recordingTool('record_invoice', invoiceInput);
    const run = await engine.start(definition({ vendorId: '{% $input.vendor %}', currency: 'EUR' }, tool), { input });
    expect(run.status).toBe('done');
    const schema = (bodies[0]!['tools'] as Array<{ input_schema: { properties: Record<string, unknown>; required: string[] } }>)[0]!.input_schema;
    expect(Object.keys(schema.properties).sort()).toEqual(['invoiceNumber', 'total']);
    expect(schema.required.sort()).toEqual(['invoiceNumber', 'total']);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.input).toMatchObject({ vendorId: 'V-2002', currency: 'EUR', invoiceNumber: 'INV-2041' });
    expect(run.output).toMatchObject({ vendorId: 'V-2002', currency: 'EUR' });
  });

  it('ignores a value the model sends for a field the application fills: the application wins', async () => {
    const { engine } = await setup((modelInput) => ({ ...modelInput, vendorId: 'V-6666', currency: 'XXX' }));
    const { tool, calls } = recordingTool('record_invoice', invoiceInput);
    const run = await engine.start(definition({ vendorId: '{% $input.vendor %}', currency: 'EUR' }, tool), { input });
    expect(run.status).toBe('done');
    expect(run.steps[0]!.attempts).toBe(1);
    expect(calls[0]!.input).toMatchObject({ vendorId: 'V-2002', currency: 'EUR' });
  });

  it('shrinks the prompt: fewer request tokens than the same step without with:', async () => {
    const { engine } = await setup();
    const whole = await engine.start(definition(), { input });
    const partial = await engine.start(definition({ vendorId: '{% $input.vendor %}', currency: 'EUR' }), { input });
    expect(partial.steps[0]!.inputTokens).toBeLessThan(whole.steps[0]!.inputTokens);
    expect(partial.usage.inputTokens).toBeLessThan(whole.usage.inputTokens);
  });

  it('a bad with: value fails the step before any model call (the values are known up front), without a retry', async () => {
    const { engine, bodies } = await setup();
    const { tool, calls } = recordingTool('record_invoice', invoiceInput);
    const run = await engine.start(definition({ vendorId: '{% $input.vendor %}', currency: 'EURO' }, tool), { input });
    expect(run.status).toBe('failed');
    expect(run.steps[0]!.attempts).toBe(1);
    expect(run.failure?.message).toMatch(/with: values of step "extract" do not fit the input of record_invoice: currency/);
    expect(calls).toHaveLength(0);
    expect(bodies).toHaveLength(0);
    expect(run.usage.totalTokens).toBe(0);
  });

  it('a with: value the model could not have made wrong still leaves the model its own fields: only with: fields are checked up front', async () => {
    const { engine, bodies } = await setup();
    const { tool, calls } = recordingTool('record_invoice', invoiceInput);
    // Valid with: values, the required fields the model fills missing from them: the step goes on to the model.
    const run = await engine.start(definition({ vendorId: '{% $input.vendor %}', currency: 'EUR' }, tool), { input });
    expect(run.status).toBe('done');
    expect(bodies).toHaveLength(1);
    expect(calls).toHaveLength(1);
  });

  it('validate: a with: key that is not a tool field is an error at its file, line and path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-partial-def-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const tools = resolve('test/definition/fixtures/tools/lookup.ts');
    const file = join(dir, 'partial.yaml');
    writeFileSync(
      file,
      [`id: partial`, `tools: ${tools}`, `steps:`, `  fill:`, `    claude:`, `      tool: extract`, `      prompt: Extract the total.`, `      with:`, `        totl: 5`, `    next: done`, `  done: { final: true }`, ''].join('\n'),
    );
    const error = await loadDefinition(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DefinitionError);
    const [issue] = (error as DefinitionError).issues;
    expect(issue).toMatchObject({ file, line: 9, path: 'steps.fill.claude.with.totl' });
    expect(issue!.message).toMatch(/"totl" is not a field of the input of tool extract; did you mean "total"\? \(its fields: total\)/);
  });

  it('validate: a with: that fills every field warns to use a tool step', async () => {
    const { tool } = recordingTool('record_invoice', invoiceInput);
    const loaded = definition({ vendorId: 'V-1000', currency: 'EUR', invoiceNumber: 'I-1', total: 1 }, tool);
    expect(loaded.warnings).toEqual([expect.objectContaining({ path: 'steps.extract.claude.with', message: expect.stringMatching(/use a tool step/) })]);
    expect(definition({ currency: 'EUR' }, tool).warnings).toEqual([]);
  });

  it("validate's worst case counts the reduced schema", () => {
    const { tool } = recordingTool('record_invoice', invoiceInput);
    const toolOf = () => ({ name: tool.name, description: tool.description, input_schema: toolInputSchema(tool) });
    const whole = worstCaseTokens(definition(undefined, tool).workflow, toolOf);
    const partial = worstCaseTokens(definition({ vendorId: 'V-1000', currency: 'EUR' }, tool).workflow, toolOf);
    expect(partial.steps[0]!.inputTokens).toBeLessThan(whole.steps[0]!.inputTokens);
  });
});
