/**
 * The composition figures as Markdown: a small table in the full report, and
 * the same with its targets for `stepwise bench --composition`.
 */
import type { CompositionBench } from './composition.js';
import { compositionTargets, targetsTable } from './targets.js';

const n = (v: number): string => v.toLocaleString('en-US');

/** The composition table (measures and ratios), for the full report. */
export function compositionLines(c: CompositionBench): string[] {
  const { mapWall: wall, itemOverhead: cpu, mapCache: cache } = c;
  return [
    '| composition (`map`) | measured | against | ratio |',
    '| --- | --- | --- | --- |',
    ...[wall, c.mapWallMemory].map((w) => `| wall time, ${w.items} items, maxConcurrency ${w.maxConcurrency}, emulator latency ${w.latencyMs} ms, ${w.store} | ${w.mapSeconds} s | ${w.sequentialSeconds} s for ${w.sequentialItems} items one at a time | ${w.ratio}× |`),
    `| CPU per map item, model time zero (body one tool step) | ${n(cpu.usPerItem)} µs | ${n(cpu.usPerStep)} µs per plain step | ${cpu.ratio}× |`,
    `| billed input, ${cache.items} items sharing a ${n(cache.prefixTokens)}-token prefix (maxConcurrency ${cache.maxConcurrency}) | ${n(cache.billedCached)} | ${n(cache.billedUncached)} with \`cache: false\` | ${cache.ratio}× |`,
    '',
    `CPU: ${cpu.measure}. Prompt cache: ${cache.measure}.`,
  ];
}

/** The composition figures with their targets, as `stepwise bench --composition` prints them. */
export function formatCompositionTable(c: CompositionBench): string {
  return [
    ...compositionLines(c),
    '',
    ...targetsTable(compositionTargets(c)),
  ].join('\n');
}
