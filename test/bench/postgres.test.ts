import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresThroughput, type PostgresWorkers } from '../../src/bench/postgres.js';
import { withPostgresTargets } from '../../src/bench/postgres-only.js';
import { postgresTargets, type Target } from '../../src/bench/targets.js';
import { generateScenarios } from '../../src/bench/scenarios.js';
import { HEAVY_BUDGET_MS } from '../budgets.js';
import { PG_URL } from '../pg.js';

describe('bench PostgreSQL arm', () => {
  it('drives every run to done with N worker processes, measures the raw rate and claim latency, and drops its schema', { timeout: HEAVY_BUDGET_MS }, async () => {
    const scenarios = generateScenarios(2, 3);
    const result = await postgresThroughput(scenarios, { url: PG_URL, workers: [1, 2], claimSamples: 3 });
    if (result.skipped !== null) throw new Error(`the test server must be reachable: ${result.skipped}`);
    expect(result.byWorkers.map((w) => w.workers)).toEqual([1, 2]);
    const steps = scenarios.reduce((a, s) => a + s.steps.length, 0);
    for (const w of result.byWorkers) {
      expect(w).toMatchObject({ connections: w.workers, processes: w.workers, runs: 3, steps });
      // Each worker process warmed up on the memory store, and the server backends are on this machine.
      expect(w.memoryCpuMsPerStep).toBeGreaterThan(0);
      expect(w.cpuMsPerStep).toBeGreaterThan(0);
      // The workers' CPU by thread: their main threads ran the steps, and the threads together make up the processes' CPU.
      expect(w.threadCpuMsPerStep).not.toBeNull();
      expect(w.threadCpuMsPerStep!.main).toBeGreaterThan(0);
      expect(w.threadCpuMsPerStep!.others).toBeGreaterThanOrEqual(0);
      expect(w.serverCpuMsPerStep).not.toBeNull();
      expect(w.rawCpuMsPerTransaction).toBeGreaterThan(0);
      expect(w.rawServerCpuMsPerTransaction).not.toBeNull();
      expect(w.stepsPerSecond).toBeGreaterThan(0);
      expect(w.rawTransactionsPerSecond).toBeGreaterThan(0);
      // The stricter baseline, the UPDATE alone in autocommit, is measured beside it.
      expect(w.rawAutocommitTransactionsPerSecond).toBeGreaterThan(0);
      expect(w.rawAutocommitBeforeAfter.every((r) => r > 0)).toBe(true);
      expect(w.autocommitRatio).toBeGreaterThan(0);
      // Statements are counted on the connections: commits (alone or grouped) and claims at least, and the bytes both ways.
      expect((w.storeCallsPerStep['commit'] ?? 0) + (w.storeCallsPerStep['commit_many'] ?? 0)).toBeGreaterThan(0);
      expect(w.storeCallsPerStep['claim']).toBeGreaterThan(0);
      expect(w.roundTripsPerStep).toBeCloseTo(Object.values(w.storeCallsPerStep).reduce((a, b) => a + b, 0), 1);
      expect(w.bytesSentPerStep).toBeGreaterThan(0);
      expect(w.bytesReceivedPerStep).toBeGreaterThan(0);
      expect(w.claimLatencyMs).not.toBeNull();
      expect(w.claimLatencyP99Ms).toBeGreaterThanOrEqual(w.claimLatencyMs!.p50);
    }
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      // The arm's schema and the schemas the workers warmed up in are gone.
      const { rows } = await client.query("SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $1 || '\\_warm\\_%'", [result.schema]);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it('reports skipped with the reason, and no password, when the server is not reachable', async () => {
    const result = await postgresThroughput(generateScenarios(2, 1), { url: 'postgres://bench:s3cret@127.0.0.1:1/test' });
    expect(result.skipped).toMatch(/not reachable/);
    expect(result.skipped).not.toContain('s3cret');
  });
});

describe('bench --postgres targets', () => {
  const target = (name: string, value: number | null = 1): Target => ({ name, target: '>= 0.5x', value, met: value === null ? null : value >= 0.5 });

  it('replaces the PostgreSQL targets where they stood (each worker count against both raw baselines) and keeps the others in order', () => {
    const old = [target('a'), target('PostgreSQL steps/s vs raw one-statement transactions/s, 1 worker', 0.2), target('PostgreSQL steps/s vs raw one-statement transactions/s, 2 workers', 0.1), target('b')];
    const fresh = postgresTargets({ skipped: null, schema: 's', workerConcurrency: 4, pollMs: 250, cpus: 2, loadAverage1m: 0, byWorkers: [{ workers: 1, connections: 1, ratio: 0.6, autocommitRatio: 0.4 } as PostgresWorkers] });
    expect(withPostgresTargets(old, fresh).map((t) => [t.name, t.value, t.met])).toEqual([
      ['a', 1, true],
      ['PostgreSQL steps/s vs raw one-statement transactions/s, 1 worker (1 connection each side)', 0.6, true],
      ['PostgreSQL steps/s vs raw one-statement transactions/s in autocommit, 1 worker (1 connection each side)', 0.4, false],
      ['b', 1, true],
    ]);
    expect(withPostgresTargets([target('a')], postgresTargets({ skipped: 'down' })).map((t) => t.name)).toEqual(['a', 'PostgreSQL steps/s vs raw one-statement transactions/s']);
  });
});
