/**
 * A `claude` step's `timeout` bounds each model request and, separately, the tool call the step makes: a tool that
 * never answers fails the attempt as a retryable `timeout` when the engine's clock passes the step's `timeout`
 * (a manual clock here: nothing waits in real time), its signal aborted, and the tokens the model reply cost are
 * charged. Found by outside testing: the run hung for ever, with the reply's tokens not recorded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function engineOn(tool: AnyTool, clock: ManualClock) {
  const emu = await startEmulator({ seed: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-claude-timeout-'));
  const store = createSqliteStore({ path: join(dir, 'runs.db') });
  cleanups.push(() => emu.close(), () => rmSync(dir, { recursive: true, force: true }), () => store.close());
  return createEngine({ store, tools: [tool], clock, model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS } });
}

/** A tool that answers only the calls `answers` lets through, never the others; each call's signal is handed out. */
function fillTool(answers: (call: number) => boolean) {
  const signals: AbortSignal[] = [];
  const waiting: Array<(signal: AbortSignal) => void> = [];
  const tool = defineTool({
    name: 'fill',
    description: 'Record the extracted name.',
    input: z.object({ name: z.string() }),
    run: (input, { signal }) => {
      signals.push(signal);
      waiting.shift()?.(signal);
      return answers(signals.length) ? { saved: input.name } : new Promise<never>(() => {});
    },
  }) as unknown as AnyTool;
  return { tool, signals, called: () => new Promise<AbortSignal>((resolve) => waiting.push(resolve)) };
}

const definition = (tool: AnyTool, retry: Record<string, unknown>) =>
  loadDefinitionFromObject(
    {
      id: 'claude-tool-hang',
      retry: { backoff: { initial: '1s', jitter: 0 }, ...retry },
      steps: { extract: { claude: { tool: 'fill', prompt: 'Extract the name.', maxTokens: 300 }, timeout: '3s' }, done: { final: true } },
    },
    [tool],
    'claude-tool-hang',
  );

describe("a claude step's tool that never answers", () => {
  it('fails the attempt as timeout at the step timeout, aborting its signal and charging the reply', async () => {
    const clock = new ManualClock();
    const fill = fillTool(() => false);
    const engine = await engineOn(fill.tool, clock);
    const called = fill.called();
    const running = engine.start(definition(fill.tool, { maxAttempts: 1 }));
    const signal = await called;
    clock.advance(2_999);
    expect(signal.aborted).toBe(false);
    clock.advance(1);
    const run = await running;
    expect(signal.aborted).toBe(true);
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'timeout', step: 'extract' } });
    expect(run.failure?.message).toMatch(/fill .*3000 ms/);
    expect(run.usage.totalTokens).toBeGreaterThan(0);
    const failed = (await engine.journal(run.runId)).filter((e) => e.event === 'failed');
    expect(failed).toEqual([expect.objectContaining({ step: 'extract', error: expect.objectContaining({ kind: 'timeout' }), input: { name: expect.any(String) } })]);
    expect(failed[0]?.usage?.totalTokens).toBe(run.usage.totalTokens);
  });

  it('is retried per the retry policy: the next attempt asks the model again and its tool answers', async () => {
    const clock = new ManualClock({ autoAdvance: true }); // the backoff passes at once; the tool's timeout waits for advance()
    const fill = fillTool((call) => call > 1);
    const engine = await engineOn(fill.tool, clock);
    const called = fill.called();
    const running = engine.start(definition(fill.tool, { maxAttempts: 2 }));
    await called;
    clock.advance(3_000);
    const run = await running;
    expect(run.status).toBe('done');
    expect(fill.signals).toHaveLength(2);
    expect(fill.signals[0]?.aborted).toBe(true);
    const events = (await engine.journal(run.runId)).filter((e) => e.step === 'extract').map((e) => `${e.event}${e.error ? `:${e.error.kind}` : ''}`);
    expect(events).toEqual(['started', 'failed:timeout', 'retry_scheduled', 'started', 'completed']);
  });
});
