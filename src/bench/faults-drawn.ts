/**
 * The faults an arm drew from the emulator: the difference of the emulator's
 * counters before and after the arm ran (arms run one after the other on one
 * emulator), per workflow. Counts what shaped an answer: HTTP faults (429,
 * 529, 500) and content faults (invalid input, repeat, drift, out of order,
 * stop early); a fault drawn for a request whose shape cannot show it (drift
 * under a forced `tool_choice`) is not counted.
 */
import type { EmulatorStats } from '../emulator/stats.js';

export interface FaultsDrawn {
  /** Faults per workflow (mean). */
  readonly faultsPerWorkflow: number;
  /** Faults by kind, over all the arm's workflows. */
  readonly faultsDrawn: Record<string, number>;
  /** `/v1/messages` requests the emulator received from the arm. */
  readonly emulatorRequests: number;
}

export function faultsDrawn(before: EmulatorStats, after: EmulatorStats, workflows: number): FaultsDrawn {
  const byKind: Record<string, number> = {};
  for (const [kind, n] of Object.entries(after.faults)) {
    const delta = n - (before.faults[kind] ?? 0);
    if (delta > 0) byKind[kind] = delta;
  }
  const total = Object.values(byKind).reduce((a, b) => a + b, 0);
  return {
    faultsPerWorkflow: workflows ? Math.round((total / workflows) * 100) / 100 : 0,
    faultsDrawn: byKind,
    emulatorRequests: after.messages - before.messages,
  };
}
