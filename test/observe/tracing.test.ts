import { readFileSync } from 'node:fs';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinition, loadDefinitionFromObject } from '../../src/definition/load.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';
import { createEngine } from '../../src/engine/engine.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createMemoryStore } from '../../src/store/memory.js';

const exporter = new InMemorySpanExporter();
let emu: Emulator;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  emu = await startEmulator({ seed: 1 });
});
afterAll(async () => {
  await emu.close();
  trace.disable();
  context.disable();
});

describe('OpenTelemetry spans', () => {
  it('nests model and tool calls under step spans under the run span, with GenAI attributes', async () => {
    const engine = createEngine({ store: createMemoryStore(), model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0 } });
    const definition = await loadDefinition('definitions/invoice-approval.yaml');
    const input = JSON.parse(readFileSync('definitions/invoice-approval.input.json', 'utf8'));
    const run = await engine.start(definition, { input });
    expect(run.status).toBe('waiting');

    const spans = exporter.getFinishedSpans();
    const runSpan = spans.find((s) => s.name === 'stepwise.run')!;
    expect(runSpan.attributes).toMatchObject({ 'stepwise.run.id': run.runId, 'stepwise.workflow.id': 'invoice-approval', 'stepwise.run.status': 'waiting' });

    const extract = spans.find((s) => s.name === 'stepwise.step extract')!;
    expect(extract.attributes).toMatchObject({ 'stepwise.step.id': 'extract', 'stepwise.attempt': 1, 'stepwise.run.id': run.runId });
    expect(extract.parentSpanContext?.spanId).toBe(runSpan.spanContext().spanId);

    const chat = spans.find((s) => s.name.startsWith('chat '))!;
    expect(chat.parentSpanContext?.spanId).toBe(extract.spanContext().spanId);
    expect(chat.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-6',
      'gen_ai.response.finish_reasons': ['tool_use'],
    });
    expect(chat.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(chat.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    const step = run.steps.find((s) => s.id === 'extract')!;
    expect(chat.attributes['gen_ai.usage.input_tokens']).toBe(step.inputTokens);

    const tool = spans.find((s) => s.name === 'execute_tool check_vendor')!;
    expect(tool.attributes).toMatchObject({ 'gen_ai.tool.name': 'check_vendor', 'stepwise.step.id': 'validate', 'gen_ai.tool.call.id': `${run.runId}:validate:1:1` });
    expect(spans.find((s) => s.name === 'stepwise.step validate')!.spanContext().spanId).toBe(tool.parentSpanContext?.spanId);
  });

  it("each stepwise.run span carries its own drive's usage, so the spans of a run's drives sum to its usage (found by outside testing)", async () => {
    exporter.reset();
    const engine = createEngine({ store: createMemoryStore(), model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0 } });
    const definition = await loadDefinition('definitions/invoice-approval.yaml');
    const input = JSON.parse(readFileSync('definitions/invoice-approval.input.json', 'utf8'));
    const waiting = await engine.start(definition, { input });
    const done = await engine.send(waiting.runId, 'APPROVE', { by: 'cfo' });
    const drives = exporter.getFinishedSpans().filter((s) => s.name === 'stepwise.run' && s.attributes['stepwise.run.id'] === done.runId);
    expect(drives.length).toBeGreaterThanOrEqual(2);
    const sum = drives.reduce((n, s) => n + Number(s.attributes['gen_ai.usage.input_tokens'] ?? 0) + Number(s.attributes['gen_ai.usage.output_tokens'] ?? 0), 0);
    expect(sum).toBe(done.usage.inputTokens + done.usage.outputTokens);
    // The run's total so far is there too, under its own name.
    expect(drives.at(-1)!.attributes['stepwise.run.total_tokens']).toBe(done.usage.totalTokens);
  });

  it('keeps credentials out of the spans of a tool that fails with them in its error (found by outside testing)', async () => {
    const secrets = ['sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUV', 'hunter2'];
    const leaky = defineTool({
      name: 'leaky',
      description: 'Fails with credentials in its message.',
      input: z.object({}),
      run: () => {
        throw Object.assign(new Error(`GET https://erp/v failed: Authorization: Bearer ${secrets[0]} password=${secrets[1]}`), { retryable: false });
      },
    }) as unknown as AnyTool;
    exporter.reset();
    const engine = createEngine({ store: createMemoryStore(), tools: [leaky], model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0 } });
    const run = await engine.start(loadDefinitionFromObject({ id: 'leaky', steps: { go: { tool: 'leaky' }, done: { final: true } } }, [leaky], 'leaky'));
    expect(run.status).toBe('failed');
    const spans = exporter.getFinishedSpans();
    const step = spans.find((s) => s.name === 'stepwise.step go')!;
    expect(step.status.message).toContain('password=***');
    const tool = spans.find((s) => s.name === 'execute_tool leaky')!;
    expect(tool.events.length).toBeGreaterThan(0);
    const exported = JSON.stringify(spans.map((s) => ({ status: s.status, events: s.events, attributes: s.attributes })));
    for (const secret of secrets) expect(exported).not.toContain(secret);
  });
});
