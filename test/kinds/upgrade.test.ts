/**
 * Snapshots stored before steps kept their own state (one `attempt`,
 * `retryAt` and `enteredAt` in the run's context) are upgraded when read: a
 * run stored that way in SQLite goes on from where it was, its wait timing
 * out from the time it was entered and its retry counting its attempts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, createSqliteStore, defineTool, loadDefinitionFromObject, ManualClock } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-upgrade-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The snapshot as an older version stored it: the step's state in the run's context. */
function legacy(snapshot: unknown, step: string): unknown {
  const s = snapshot as { context: { active: Record<string, { attempt: number; retryAt: number | null; enteredAt: number }> } & Record<string, unknown> };
  const { active, ...context } = s.context;
  const own = active[step]!;
  return { ...s, context: { ...context, attempt: own.attempt, retryAt: own.retryAt, enteredAt: own.enteredAt } };
}

describe('snapshots stored by an older version', () => {
  it('restore: a waiting run keeps its timeout and takes its event; a retrying run keeps its attempt count', async () => {
    let calls = 0;
    const flaky = defineTool({
      name: 'flaky',
      description: 'Fails once.',
      input: z.object({}),
      run: async () => {
        calls += 1;
        if (calls === 1) throw Object.assign(new Error('down'), { retryable: true });
        return { ok: true };
      },
    });
    const definition = loadDefinitionFromObject(
      {
        id: 'old',
        retry: { maxAttempts: 2, backoff: { initial: '1s', jitter: 0 } },
        steps: {
          approve: { wait: { on: { APPROVE: 'call' }, timeout: '1h', onTimeout: 'late' } },
          call: { tool: 'flaky', next: 'done' },
          done: { final: true },
          late: { final: true },
        },
      },
      [flaky],
      'old',
    );
    const path = join(dir, 'runs.db');
    const clock = new ManualClock({ start: 5_000_000, autoAdvance: true });
    const store = createSqliteStore({ path });
    const engine = createEngine({ store, clock, model: { baseURL: 'http://127.0.0.1:9', apiKey: 'unused' } });
    const waiting = await engine.start(definition, { runId: 'old-wait' });
    expect(waiting.status).toBe('waiting');
    const record = (await store.get('old-wait'))!;
    await store.commit('old-wait', { status: record.status, snapshot: legacy(record.snapshot, 'approve'), usage: record.usage, failure: null, wakeAt: record.wakeAt, options: record.options }, [], record.revision);
    expect((await store.get('old-wait'))!.snapshot).not.toHaveProperty('context.active');

    const later = createEngine({ store: createSqliteStore({ path }), clock, tools: [flaky], model: { baseURL: 'http://127.0.0.1:9', apiKey: 'unused' } });
    expect((await later.get('old-wait')).waitingFor).toEqual({ step: 'approve', events: ['APPROVE'], timeoutAt: 5_000_000 + 3_600_000 });
    clock.advance(1000);
    const sent = await later.send('old-wait', 'APPROVE', { by: 'ops' });
    // The tool failed once and was retried: attempt 2 of `call`, counted for that step.
    expect(sent.failure).toBeNull();
    expect(sent.status).toBe('done');
    expect(sent.steps.map((s) => `${s.id}:${s.status}:${s.attempts}`)).toEqual(['approve:done:0', 'call:done:2', 'done:done:0']);
    expect(calls).toBe(2);
  });
});
