/**
 * Configuration errors (no credentials, 401, 403, 404, a malformed request)
 * are not transient: through the engine against the emulator, each fails the
 * step at once, without step retries or backoff, with a kind and a message
 * that say what to fix.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { definition, events, fastRetry, recordNote } from './helpers.js';

const oneStep = {
  id: 'one-step',
  retry: fastRetry,
  steps: {
    write: { claude: { tool: 'record_note', prompt: 'Record a note titled Quarterly review.', maxTokens: 300 }, next: 'done' },
    done: { final: true },
  },
};

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

/** Runs the one-step workflow on a client made from `options`, with the SDK's default HTTP retries. */
async function runOn(options: NonNullable<ConstructorParameters<typeof Anthropic>[0]>) {
  const store = createMemoryStore();
  const client = new Anthropic({ maxRetries: 2, ...options });
  const engine = createEngine({ store, clock: new ManualClock({ autoAdvance: true }), tools: [recordNote], model: client });
  const run = await engine.start(definition(oneStep, [recordNote]));
  const journal = await engine.journal(run.runId);
  await store.close();
  return { run, journal };
}

describe('configuration errors fail at once', () => {
  it('no credentials: the SDK cannot authenticate, no request is made, the run fails auth_error after one attempt', async () => {
    emu = await startEmulator();
    const { run, journal } = await runOn({ baseURL: emu.url, apiKey: null, authToken: null });
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'auth_error', step: 'write' } });
    expect(run.failure?.message).toMatch(/set ANTHROPIC_API_KEY/);
    expect(run.steps[0]?.attempts).toBe(1);
    expect(events(journal, 'retry_scheduled')).toHaveLength(0);
    expect(emu.stats().requests).toBe(0);
  });

  for (const [fault, status, kind, fix] of [
    ['unauthorized', 401, 'auth_error', /ANTHROPIC_API_KEY/],
    ['forbidden', 403, 'permission_error', /permission/],
    ['bad_request', 400, 'invalid_request', /invalid request/],
  ] as const) {
    it(`${fault} (${status}): one request, no retries, kind ${kind}`, async () => {
      emu = await startEmulator({ faults: `${fault}=1` });
      const { run, journal } = await runOn({ baseURL: emu.url, apiKey: 'x' });
      expect(run).toMatchObject({ status: 'failed', failure: { kind, step: 'write' } });
      expect(run.failure?.message).toContain(String(status));
      expect(run.failure?.message).toMatch(fix);
      expect(events(journal, 'failed').map((e) => e.error?.kind)).toEqual([kind]);
      expect(events(journal, 'retry_scheduled')).toHaveLength(0);
      expect(emu.stats().requests).toBe(1); // neither the SDK nor the step retried
    });
  }

  it('not found (404, a wrong base URL): one request, kind not_found, the message points at the URL', async () => {
    emu = await startEmulator();
    const { run } = await runOn({ baseURL: `${emu.url}/wrong-prefix`, apiKey: 'x' });
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'not_found', step: 'write' } });
    expect(run.failure?.message).toMatch(/ANTHROPIC_BASE_URL/);
    expect(emu.stats().requests).toBe(1);
  });
});
