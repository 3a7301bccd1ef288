/**
 * The composition figures of `stepwise bench`, at small counts: every map
 * finishes through the real engine and the emulator, each figure is there with
 * its target, and caching across a map bills less than `cache: false`. No
 * timing thresholds: the wall-time and CPU ratios are the benchmark's, not the
 * test's.
 */
import { describe, expect, it } from 'vitest';
import { compositionBenchmark } from '../../src/bench/composition.js';
import { formatCompositionTable } from '../../src/bench/composition-report.js';
import { benchTargets } from '../../src/bench/targets.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';

describe('bench composition figures', () => {
  it('measures a map against sequential items, CPU per item against per step, and caching across a map', { timeout: SPAWN_BUDGET_MS }, async () => {
    const c = await compositionBenchmark({ items: 20, maxConcurrency: 5, latencyMs: 20, overheadItems: 20, passes: 1, cacheItems: 6, prefixTokens: 2000 });
    for (const wall of [c.mapWall, c.mapWallMemory]) {
      expect(wall).toMatchObject({ items: 20, maxConcurrency: 5, sequentialItems: 4, latencyMs: 20 });
      expect(wall.mapSeconds).toBeGreaterThan(0);
      expect(wall.sequentialSeconds).toBeGreaterThan(0);
      expect(wall.ratio).toBeGreaterThan(0);
    }
    expect(c.mapWall.store).toMatch(/SQLite/);
    expect(c.mapWallMemory.store).toBe('memory store');
    expect(c.itemOverhead).toMatchObject({ items: 20 });
    expect(c.itemOverhead.usPerItem).toBeGreaterThan(0);
    expect(c.itemOverhead.usPerStep).toBeGreaterThan(0);
    // Token counts, not time: the first item writes the prefix, the others read it; without caching every item pays it in full.
    expect(c.mapCache).toMatchObject({ items: 6 });
    expect(c.mapCache.prefixTokens).toBeGreaterThanOrEqual(2000);
    expect(c.mapCache.billedCached).toBeLessThan(c.mapCache.billedUncached);
    expect(c.mapCache.billedUncached).toBeGreaterThan(6 * 2000);

    const table = formatCompositionTable(c);
    expect(table).toContain('| composition (`map`) | measured | against | ratio |');
    expect(table).toContain(`${c.mapCache.ratio}×`);
    const names = benchTargets({
      profile: 'none', inFlight: 1, stateless: { completionRate: 1, tokensPer5StepWorkflow: null }, stepwise: { completionRate: 1, tokensPer5StepWorkflow: null }, stepwiseClaude: null,
      stepwiseOverhead: { memory: throughputOf(1), sqliteFull: throughputOf(1), sqliteFullConcurrent: throughputOf(1) },
      langgraph: null, limit: { sqliteFull: throughputOf(1), sqliteFullConcurrent: throughputOf(1), sqliteNormal: throughputOf(1) },
      postgres: null, parkedMemory: null, parkedSqlite: null, promptCache: null, composition: c,
    }).filter((t) => /map/.test(t.name));
    expect(names.map((t) => t.target)).toEqual(['<= 1.3x', '<= 1.3x', '<= 1.2x', '<= 0.3x']);
    expect(names.map((t) => t.value)).toEqual([c.mapWall.ratio, c.mapWallMemory.ratio, c.itemOverhead.ratio, c.mapCache.ratio]);
  });
});

function throughputOf(usPerStep: number) {
  return { steps: 1, runs: 1, seconds: 1, stepsPerSecond: 1, usPerStep, cpuUsPerStep: usPerStep };
}
