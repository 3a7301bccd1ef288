/**
 * A tool that outlives its lease on every call (it always blocks longer than
 * the lease, so whoever drives the run loses it mid-call to another worker):
 * before, two workers took the run from each other forever and the tool ran
 * at every takeover (165 calls in 9 minutes with `--lease 3s` and a 4 s tool).
 * An attempt interrupted mid-call is re-run with its idempotency key a bounded
 * number of times; after that it fails as `interrupted` (retryable), so the run
 * ends in a persisted state with a reason. The takeover is created through the
 * store (another owner acquires the expired lease while the tool runs); time
 * comes from a ManualClock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { LeaseLostError, type Store } from '../../src/store/types.js';
import { defineTool } from '../../src/tools/define.js';
import { journalProblems } from './helpers.js';
import { PG_URL as URL, testSchemas } from '../pg.js';

const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-takeover-'));
const schemas = testSchemas('takeover');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const backends: Record<'sqlite' | 'postgres', () => Promise<Store>> = {
  sqlite: async () => createSqliteStore({ path: path.join(dir, `takeover-${Date.now()}.db`) }),
  postgres: async () => {
    const store = createPostgresStore({ url: URL, schema: schemas.name(), pool: 4 });
    await store.migrate();
    return store;
  },
};

const LEASE = 3_000;

describe.each(['sqlite', 'postgres'] as const)('a tool that outlives the lease on every call (%s)', (backend) => {
  it('is re-run a bounded number of times per attempt, then the run fails with a reason', { timeout: 120_000 }, async () => {
    const store = await backends[backend]();
    const clock = new ManualClock({ autoAdvance: true });
    const calls: string[] = [];
    let intruders = 0;
    try {
      const tools = [
        defineTool({
          name: 'slow',
          description: 'A call that always takes longer than the lease.',
          input: z.object({}),
          run: async (_input, { idempotencyKey, runId }) => {
            calls.push(idempotencyKey);
            // The lease runs out while the tool runs, and another worker takes the run over.
            clock.advance(LEASE + 1_000);
            expect(await store.acquire(runId, `intruder-${++intruders}`, clock.now(), LEASE)).toBe(true);
            return { ok: true };
          },
        }),
      ];
      const definition = loadDefinitionFromObject(
        {
          id: 'takeover',
          breaker: false,
          retry: { maxAttempts: 2, backoff: { initial: '1s', factor: 1, max: '1s' } },
          steps: { slow: { tool: 'slow', with: {}, next: 'done' }, done: { final: true } },
        },
        tools,
        'takeover',
      );
      const engine = createEngine({ store, clock, leaseMs: LEASE, model: { apiKey: 'unused' } });
      const run = await engine.start(definition, { detach: true });
      const lost: unknown[] = [];
      for (let round = 0; round < 30; round++) {
        const record = await store.get(run.runId);
        if (record?.status !== 'running') break;
        // The intruder's lease expires (it stands for a worker that is itself blocked): the next driver takes over.
        clock.advance(LEASE + 1_000);
        try {
          await engine.resume(run.runId);
        } catch (error) {
          expect(error).toBeInstanceOf(LeaseLostError);
          lost.push(error);
        }
      }
      const stored = await store.get(run.runId);
      expect(stored?.status).toBe('failed');
      expect(stored?.failure).toMatchObject({ kind: 'retries_exhausted', step: 'slow' });
      expect(stored?.failure?.message).toContain('interrupted');
      // Each of the 2 attempts: the first call and 3 re-runs with the same key, then the attempt fails.
      const perKey = [...calls.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>()).values()];
      expect(perKey).toEqual([4, 4]);
      const journal = await store.journal(run.runId);
      expect(journalProblems(journal)).toEqual([]);
      expect(journal.filter((e) => e.event === 'started' && (e.data as { rerun?: boolean } | undefined)?.rerun).length).toBe(6);
      expect(journal.filter((e) => e.event === 'failed').map((e) => e.error?.kind)).toEqual(['interrupted', 'interrupted']);
    } finally {
      await store.close();
    }
  });
});
