import { describe, expect, it } from 'vitest';
import { formatServerTable, serverBenchmark } from '../../src/bench/server.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';

describe('the server benchmark', () => {
  it('measures reads, run starts and event-to-SSE latency over the real API, with tiny counts', { timeout: SPAWN_BUDGET_MS }, async () => {
    const result = await serverBenchmark({ clients: 3, reads: 12, starts: 6, events: 4 });
    expect(result.clients).toBe(3);
    expect(result.getRun).toMatchObject({ requests: 12 });
    expect(result.startRun).toMatchObject({ requests: 6, steps: 3 });
    for (const rate of [result.getRun, result.startRun]) {
      expect(rate.requestsPerSecond).toBeGreaterThan(0);
      expect(rate.seconds).toBeGreaterThan(0);
    }
    expect(result.sseEvent.events).toBe(4);
    for (const ms of [result.sseEvent.p50Ms, result.sseEvent.p99Ms, result.sseEvent.maxMs]) expect(ms).toBeGreaterThan(0);
    expect(result.sseEvent.p99Ms).toBeGreaterThanOrEqual(result.sseEvent.p50Ms);
    const table = formatServerTable(result);
    for (const label of ['GET /api/runs/:id', 'POST /api/runs', 'SSE message']) expect(table).toContain(label);
  });
});
