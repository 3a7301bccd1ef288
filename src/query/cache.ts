/**
 * Prompt-cache figures of a run, per step, from its journal: the input tokens
 * its attempts sent uncached, wrote to the cache and read from it, and the hit
 * rate — the share of the step's input tokens read from the cache.
 */
import type { JournalEntry } from '../run/types.js';

export interface StepCache {
  readonly step: string;
  /** Attempts that reported model usage. */
  readonly calls: number;
  /** Uncached input tokens. */
  readonly inputTokens: number;
  readonly cacheCreationInputTokens: number;
  readonly cacheReadInputTokens: number;
  /** cacheReadInputTokens ÷ (inputTokens + cacheCreationInputTokens + cacheReadInputTokens), 0 to 1. */
  readonly hitRate: number;
}

/** One row per step that sent model input, in the order steps first appear in the journal. */
export function cacheByStep(journal: readonly JournalEntry[]): StepCache[] {
  const steps = new Map<string, { calls: number; input: number; creation: number; read: number }>();
  for (const entry of journal) {
    const usage = entry.usage;
    if (!usage || entry.step === null) continue;
    const creation = usage.cacheCreationInputTokens ?? 0;
    const read = usage.cacheReadInputTokens ?? 0;
    if (usage.inputTokens + creation + read === 0) continue;
    const row = steps.get(entry.step) ?? { calls: 0, input: 0, creation: 0, read: 0 };
    steps.set(entry.step, { calls: row.calls + 1, input: row.input + usage.inputTokens, creation: row.creation + creation, read: row.read + read });
  }
  return [...steps].map(([step, r]) => ({
    step,
    calls: r.calls,
    inputTokens: r.input,
    cacheCreationInputTokens: r.creation,
    cacheReadInputTokens: r.read,
    hitRate: Math.round((r.read / (r.input + r.creation + r.read)) * 10_000) / 10_000,
  }));
}

/** The text `show` prints: one line per step, when the run used the prompt cache at all. */
export function renderCache(rows: readonly StepCache[]): string[] {
  if (!rows.some((r) => r.cacheCreationInputTokens > 0 || r.cacheReadInputTokens > 0)) return [];
  const width = Math.max(...rows.map((r) => r.step.length)) + 2;
  return [
    'prompt cache (hit rate = input tokens read from the cache):',
    ...rows.map(
      (r) =>
        `  ${r.step.padEnd(width)}${(r.hitRate * 100).toFixed(1)} % hit  ${r.cacheReadInputTokens} read, ${r.cacheCreationInputTokens} written, ${r.inputTokens} uncached in ${r.calls} ${r.calls === 1 ? 'call' : 'calls'}`,
    ),
  ];
}
