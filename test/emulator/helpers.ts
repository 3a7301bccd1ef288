/** Shared set-up for the emulator tests: an emulator plus a real SDK client. */
import Ajv2020Module from 'ajv/dist/2020.js';
import Anthropic from '@anthropic-ai/sdk';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';

export interface Harness {
  emu: Emulator;
  client: Anthropic;
}

/** Starts an emulator and a client with no retries; close with `harness.emu.close()`. */
export async function harness(options: EmulatorOptions = {}, clientOptions: { timeout?: number } = {}): Promise<Harness> {
  const emu = await startEmulator(options);
  const client = new Anthropic({ baseURL: emu.url, apiKey: 'test', maxRetries: 0, ...clientOptions });
  return { emu, client };
}

/** Runs `fn` against a fresh emulator and always closes it. */
export async function withEmulator<T>(options: EmulatorOptions, fn: (h: Harness) => Promise<T>, clientOptions: { timeout?: number } = {}): Promise<T> {
  const h = await harness(options, clientOptions);
  try {
    return await fn(h);
  } finally {
    await h.emu.close();
  }
}

export const invoiceTool = {
  name: 'extract_invoice',
  description: 'Extract the invoice fields.',
  input_schema: {
    type: 'object' as const,
    properties: {
      vendorId: { type: 'string', pattern: '^V-\\d{4}$' },
      total: { type: 'number', minimum: 0 },
      currency: { type: 'string', enum: ['USD', 'EUR'] },
    },
    required: ['vendorId', 'total'],
    additionalProperties: false,
  },
};

export const document = 'Invoice INV-7\nVendor ID: V-1001\nTotal: 12,500.00\nCurrency: usd\nPlease extract it.';

export function forcedParams(extra: Record<string, unknown> = {}): Anthropic.MessageCreateParamsNonStreaming {
  return {
    model: 'claude-emulated',
    max_tokens: 1024,
    system: 'You extract invoices.',
    messages: [{ role: 'user', content: document }],
    tools: [invoiceTool],
    tool_choice: { type: 'tool', name: 'extract_invoice' },
    ...extra,
  };
}

/** One turn of the event loop per call: lets I/O between this process's client and emulator happen, with no timer. */
export async function ioTurns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Resolves once `condition()` holds, checked once per event-loop turn (no timers, so it works under
 * fake timers too). Fails after `budgetMs` of real time, generous for a loaded machine.
 */
export async function until(condition: () => boolean, what: string, budgetMs = 60_000): Promise<void> {
  const deadline = performance.now() + budgetMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`gave up after ${budgetMs} ms waiting for ${what}`);
    await ioTurns(1);
  }
}

/** Ajv for draft 2020-12 (the CommonJS default export, typed for NodeNext). */
export const Ajv = Ajv2020Module.default;
