/**
 * A ready SDK client is used as is: its own retry count and timeout hold for
 * every request the engine makes (through the real engine, SDK and emulator).
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { resolveModel } from '../../src/model/client.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { harness, inputOf, load, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('a ready client', () => {
  it("keeps its own maxRetries and timeout unless the options name others", () => {
    const client = new Anthropic({ apiKey: 'x', baseURL: 'http://127.0.0.1:1', maxRetries: 0, timeout: 1234 });
    expect(resolveModel(client)).toMatchObject({ maxRetries: 0, timeoutMs: 1234 });
    expect(resolveModel({ client })).toMatchObject({ maxRetries: 0, timeoutMs: 1234 });
    expect(resolveModel({ client, maxRetries: 3, timeoutMs: 50 })).toMatchObject({ maxRetries: 3, timeoutMs: 50 });
  });

  it('with maxRetries 0 makes one HTTP request per attempt: a 500 fails the attempt, the engine retries it', async () => {
    h = await harness({ seed: 1, faults: 'server_error=1' });
    let requests = 0;
    const client = new Anthropic({
      baseURL: h.emu.url,
      apiKey: 'x',
      maxRetries: 0,
      fetch: async (url, init) => {
        if (String(url).endsWith('/v1/messages')) requests++;
        return fetch(url, init);
      },
    });
    const store = createSqliteStore({ path: h.dbPath });
    h.stores.push(store);
    const engine = createEngine({ store, model: client, clock: new ManualClock({ autoAdvance: true }) });
    const view = await engine.start(await load('invoice-approval.yaml'), { input: inputOf('invoice-approval.yaml') });
    const attempts = (await engine.journal(view.runId)).filter((e) => e.step === 'extract' && e.event === 'started').length;
    expect(attempts).toBeGreaterThan(1);
    // The SDK's default (2 retries) would have made three requests per attempt.
    expect(requests).toBe(attempts);
  });
});
