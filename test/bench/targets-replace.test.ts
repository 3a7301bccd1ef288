import { describe, expect, it } from 'vitest';
import type { CompositionBench } from '../../src/bench/composition.js';
import { compositionTargets, isCompositionTarget, replaceTargets, type Target } from '../../src/bench/targets.js';

const target = (name: string, value: number | null = 1): Target => ({ name, target: '<= 1.2x', value, met: value === null ? null : value <= 1.2 });

const wall = (store: string, ratio: number) => ({ items: 100, maxConcurrency: 10, sequentialItems: 10, latencyMs: 200, mapSeconds: 2, sequentialSeconds: 2, ratio, store });
const composition = (itemRatio: number): CompositionBench => ({
  mapWall: wall('SQLite file, synchronous FULL', 1.1),
  mapWallMemory: wall('memory store', 1.05),
  itemOverhead: { items: 100, usPerItem: 110, usPerStep: 100, ratio: itemRatio, measure: 'm' },
  mapCache: { items: 20, maxConcurrency: 5, prefixTokens: 2022, billedCached: 1, billedUncached: 5, ratio: 0.2, measure: 'm' },
});

describe('bench --composition targets', () => {
  it('replaces the composition targets where they stood and keeps the others, the other prompt-cache target included', () => {
    const old = [target('a'), ...compositionTargets(composition(1.25)), target('20 items sharing a 2,000-token prefix: billed input vs no caching', 0.18), target('b')];
    const replaced = replaceTargets(old, compositionTargets(composition(1.1)), isCompositionTarget);
    expect(replaced.map((t) => t.name)).toEqual(old.map((t) => t.name));
    const cpu = replaced.find((t) => t.name.startsWith('CPU µs per map item'));
    expect([cpu?.value, cpu?.met]).toEqual([1.1, true]);
    expect(replaced.filter(isCompositionTarget)).toHaveLength(4);
  });

  it('appends the composition targets when latest.json had none', () => {
    const replaced = replaceTargets([target('a')], compositionTargets(composition(1.3)), isCompositionTarget);
    expect(replaced.map((t) => t.name.slice(0, 14))).toEqual(['a', 'map of 100 ite', 'map of 100 ite', 'CPU µs per map', 'map of 20 item']);
    expect(replaced.find((t) => t.name.startsWith('CPU µs'))?.met).toBe(false);
  });
});
