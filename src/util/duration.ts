/** Durations of the definition format (`500ms`, `1s`, `5m`, `72h`, `2d`, or a number of ms) in milliseconds. */
import { StepwiseError } from '../errors.js';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) throw new StepwiseError('usage', `"${value}" is not a duration; use e.g. 500ms, 1s, 5m, 72h or 2d.`);
  return Math.round(Number(match[1]) * (units[match[2] as string] ?? 1));
}
