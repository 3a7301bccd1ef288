/** Shared set-up for the step executor tests: an emulator, a model config and a step env. */
import { z } from 'zod';
import type { RunContext } from '../../src/compile/context.js';
import { Workflow } from '../../src/definition/schema.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { resolveModel, type ModelConfig } from '../../src/model/client.js';
import type { StepEnv } from '../../src/steps/types.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

export const document = 'INVOICE\nInvoice Number: INV-2041\nVendor ID: V-1001\nDue Date: 2026-12-02\nTotal: 12,500.00\nCurrency: USD\n';

/** A tool whose calls are recorded, with the context each got. */
export function recordingTool<I extends z.ZodType>(name: string, input: I, run: (value: z.output<I>) => unknown = (v) => v) {
  const calls: Array<{ input: unknown; idempotencyKey: string }> = [];
  const tool = defineTool({
    name,
    description: `The ${name} tool.`,
    input,
    run: (value, ctx) => {
      calls.push({ input: value, idempotencyKey: ctx.idempotencyKey });
      return run(value);
    },
  });
  return { tool: tool as unknown as AnyTool, calls };
}

export const invoiceInput = z.object({
  invoiceNumber: z.string().min(1).describe('Invoice number, e.g. INV-2041'),
  vendorId: z.string().regex(/^V-\d{4}$/).describe('Vendor id, e.g. V-1001'),
  total: z.number().nonnegative().describe('Invoice total'),
  currency: z.string().length(3).describe('ISO currency code'),
});

export function context(overrides: Partial<RunContext> = {}): RunContext {
  return {
    input: { document, n: 41 },
    steps: {},
    trail: [],
    visits: { extract: 1 },
    active: { extract: { attempt: 1, retryAt: null, enteredAt: 0 } },
    startedAt: 0,
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0 },
    budget: { tokens: 50_000, usd: null, stopAt: 0.9 },
    failure: null,
    lastError: null,
    fingerprints: {},
    event: null,
    ...overrides,
  };
}

export function env(options: {
  workflow: unknown;
  stepId: string;
  tools: readonly AnyTool[];
  model: ModelConfig;
  context?: RunContext;
  attempt?: number;
}): StepEnv {
  return {
    runId: 'run-1',
    stepId: options.stepId,
    visit: 1,
    attempt: options.attempt ?? 1,
    workflow: Workflow.parse(options.workflow),
    context: options.context ?? context(),
    tools: new Map(options.tools.map((t) => [t.name, t])),
    model: options.model,
    signal: new AbortController().signal,
  };
}

export interface ModelHarness {
  emu: Emulator;
  model: ModelConfig;
}

/** Runs `fn` with an emulator and a client with no SDK retries; always closes it. */
export async function withModel<T>(options: EmulatorOptions, fn: (h: ModelHarness) => Promise<T>, timeoutMs = MODEL_TIMEOUT_MS): Promise<T> {
  const emu = await startEmulator(options);
  try {
    return await fn({ emu, model: resolveModel({ baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs }) });
  } finally {
    await emu.close();
  }
}
