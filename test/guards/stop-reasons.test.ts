/**
 * Every stop reason and API error the model server can answer with, through
 * the engine against the emulator with faults: each ends the run in a
 * persisted state with `failure: { kind, step, message }` and `resumable`,
 * journaled, never a crash.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/engine/view.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { definition, events, fastRetry, recordNote, rig, type Rig } from './helpers.js';

const oneStep = {
  id: 'one-step',
  retry: fastRetry,
  steps: {
    write: { claude: { tool: 'record_note', prompt: 'Record a note titled Quarterly review.', maxTokens: 300 }, next: 'done' },
    done: { final: true, output: '{% $steps.write.output %}' },
  },
};

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

async function runWith(faults: string, options: { timeoutMs?: number; maxRetries?: number } = {}): Promise<{ run: RunView; r: Rig }> {
  r = await rig({ faults, tools: [recordNote], ...options });
  const run = await r.engine.start(definition(oneStep, [recordNote]));
  const stored = await r.engine.get(run.runId);
  expect(stored).toEqual(run); // what the caller got is what was persisted
  return { run, r };
}

describe('stop reasons and API errors', () => {
  it('refusal: the step fails at once with kind refusal, resumable', async () => {
    const { run, r } = await runWith('refusal=1');
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'refusal', step: 'write' } });
    expect(run.failure?.message).toMatch(/refusal/);
    expect(run.steps[0]?.attempts).toBe(1);
    expect(events(await r.engine.journal(run.runId), 'failed').map((e) => e.error?.kind)).toEqual(['refusal']);
  });

  it('max_tokens: retried once with twice the limit, then the step fails with kind max_tokens', async () => {
    const { run, r } = await runWith('max_tokens=1');
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'max_tokens', step: 'write' } });
    const journal = await r.engine.journal(run.runId);
    expect(events(journal, 'failed').map((e) => e.error?.kind)).toEqual(['max_tokens', 'max_tokens']);
    const projected = events(journal, 'started').map((e) => (e.data as { projectedTokens: number }).projectedTokens);
    expect(projected).toHaveLength(2);
    expect(projected[1]! - projected[0]!).toBe(300); // the retry reserves max_tokens 600 instead of 300
    expect(run.usage.totalTokens).toBeGreaterThan(0); // truncated replies are charged
  });

  it('pause_turn: the paused turn is continued; a model that never stops pausing exhausts the retries', async () => {
    const { run, r } = await runWith('pause_turn=1');
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'retries_exhausted', step: 'write' } });
    expect(run.failure?.message).toMatch(/paused its turn more than 3 times.*after 3 attempts/);
    expect(r.emu.stats().requests).toBeGreaterThanOrEqual(12); // 3 attempts × (1 + 3 continuations)
  });

  it('pause_turn now and then: continued and completed', async () => {
    const { run } = await runWith('pause_turn=0.5');
    expect(run.status).toBe('done');
  });

  it('context window: fails at once with kind context_window, not resumable', async () => {
    const { run } = await runWith('context_window=1');
    expect(run).toMatchObject({ status: 'failed', resumable: false, failure: { kind: 'context_window', step: 'write' } });
    expect(run.steps[0]?.attempts).toBe(1);
  });

  it('request timeout: retried, then retries_exhausted', async () => {
    const { run, r } = await runWith('timeout=1', { timeoutMs: 200 });
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'retries_exhausted', step: 'write' } });
    expect(run.failure?.message).toMatch(/time/i);
    expect(events(await r.engine.journal(run.runId), 'retry_scheduled')).toHaveLength(2);
  });

  for (const [fault, status] of [
    ['rate_limit', 429],
    ['overloaded', 529],
    ['server_error', 500],
  ] as const) {
    it(`${fault} (${status}): retried by the step, then retries_exhausted, resumable`, async () => {
      const { run, r } = await runWith(`${fault}=1`);
      expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'retries_exhausted', step: 'write' } });
      expect(run.failure?.message).toContain(String(status));
      const journal = await r.engine.journal(run.runId);
      expect(events(journal, 'failed').map((e) => e.error?.kind)).toEqual(['model_error', 'model_error', 'model_error']);
      expect(events(journal, 'retry_scheduled').map((e) => (e.data as { delayMs: number }).delayMs)).toEqual([1000, 2000]);
    });
  }

  it('SDK HTTP retries inside each step attempt: maxAttempts × (maxRetries + 1) requests at most', async () => {
    const { run, r } = await runWith('rate_limit=1', { maxRetries: 2 });
    expect(run.failure?.kind).toBe('retries_exhausted');
    expect(r.emu.stats().requests).toBe(3 * (2 + 1));
  });

  it('a fault that clears: resume continues the run to the end', async () => {
    const store = createMemoryStore();
    const refusing = await rig({ faults: 'refusal=1', tools: [recordNote], store });
    const run = await refusing.engine.start(definition(oneStep, [recordNote]));
    await refusing.close();
    expect(run.resumable).toBe(true);
    r = await rig({ tools: [recordNote], store }); // the same store, a model that complies
    const resumed = await r.engine.resume(run.runId);
    expect(resumed).toMatchObject({ status: 'done', failure: null });
    expect(events(await r.engine.journal(run.runId), 'resumed')).toHaveLength(1);
    await store.close();
  });
});
